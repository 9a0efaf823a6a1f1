//! A stand-in for the desktop's tray, for the end-to-end tests: it owns
//! `org.kde.StatusNotifierWatcher` on the test desktop's private session bus, as a desktop
//! panel does, so the app's tray icon (libayatana-appindicator) registers with it. It then
//! reads the icon's menu over `com.canonical.dbusmenu` and presses its items as a person's
//! click would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::message::Header;
use zbus::names::BusName;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zbus::{Connection, Proxy, interface};

const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";

/// A tray icon that registered with the host: the app's bus connection and the icon's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    /// The unique bus name of the app that shows the icon.
    pub bus_name: String,
    /// The icon's object path.
    pub path: String,
}

/// One entry of a tray icon's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayMenuEntry {
    pub id: i32,
    pub label: String,
}

/// The running host; it gives up the watcher's name when dropped.
pub struct TrayHost {
    connection: Connection,
    items: Arc<Mutex<Vec<TrayItem>>>,
}

impl TrayHost {
    /// Connects to the bus at `bus_address` and takes the watcher's name there.
    pub async fn start(bus_address: &str) -> Result<Self, String> {
        let items = Arc::new(Mutex::new(Vec::new()));
        let watcher = Watcher {
            items: items.clone(),
        };
        let connection = zbus::connection::Builder::address(bus_address)
            .and_then(|builder| builder.serve_at(WATCHER_PATH, watcher))
            .and_then(|builder| builder.name(WATCHER_NAME))
            .map_err(|e| format!("cannot set up the tray host on {bus_address}: {e}"))?
            .build()
            .await
            .map_err(|e| format!("cannot own {WATCHER_NAME} on the test bus: {e}"))?;
        Ok(Self { connection, items })
    }

    /// The first icon that registers within `limit`.
    pub async fn wait_for_item(&self, limit: Duration) -> Result<TrayItem, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(item) = self.registered().first() {
                return Ok(item.clone());
            }
            if Instant::now() > deadline {
                return Err(format!("no tray icon registered within {limit:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every icon registered so far.
    pub fn registered(&self) -> Vec<TrayItem> {
        self.items
            .lock()
            .map(|items| items.clone())
            .unwrap_or_default()
    }

    /// Whether the app behind `item` is still connected to the bus (it is, while it runs).
    pub async fn is_connected(&self, item: &TrayItem) -> Result<bool, String> {
        let dbus = zbus::fdo::DBusProxy::new(&self.connection)
            .await
            .map_err(|e| format!("cannot ask the bus: {e}"))?;
        let name = BusName::try_from(item.bus_name.as_str())
            .map_err(|e| format!("{} is no bus name: {e}", item.bus_name))?;
        dbus.name_has_owner(name)
            .await
            .map_err(|e| format!("cannot ask the bus about {}: {e}", item.bus_name))
    }

    /// The entries of the icon's menu, top level, in order.
    pub async fn menu(&self, item: &TrayItem) -> Result<Vec<TrayMenuEntry>, String> {
        let menu = self.menu_proxy(item).await?;
        let (_revision, (_root, _properties, children)): (u32, MenuLayout) = menu
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await
            .map_err(|e| format!("the tray menu's GetLayout failed: {e}"))?;
        children.iter().map(|child| menu_entry(child)).collect()
    }

    /// Presses the menu entry labelled `label`, as a click in the tray's menu does.
    pub async fn press(&self, item: &TrayItem, label: &str) -> Result<(), String> {
        let entries = self.menu(item).await?;
        let entry = entries
            .iter()
            .find(|entry| entry.label == label)
            .ok_or_else(|| format!("the tray menu has no {label:?}: {entries:?}"))?;
        let menu = self.menu_proxy(item).await?;
        let () = menu
            .call("Event", &(entry.id, "clicked", Value::from(0i32), 0u32))
            .await
            .map_err(|e| format!("pressing {label:?} in the tray menu failed: {e}"))?;
        Ok(())
    }

    async fn menu_proxy(&self, item: &TrayItem) -> Result<Proxy<'static>, String> {
        let icon = Proxy::new(
            &self.connection,
            item.bus_name.clone(),
            item.path.clone(),
            ITEM_INTERFACE,
        )
        .await
        .map_err(|e| format!("cannot reach the tray icon {item:?}: {e}"))?;
        let menu_path: OwnedObjectPath = icon
            .get_property("Menu")
            .await
            .map_err(|e| format!("the tray icon has no Menu: {e}"))?;
        Proxy::new(
            &self.connection,
            item.bus_name.clone(),
            menu_path,
            MENU_INTERFACE,
        )
        .await
        .map_err(|e| format!("cannot reach the tray icon's menu: {e}"))
    }
}

/// A dbusmenu layout node: `(id, properties, children)`.
type MenuLayout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// The id and `label` of one node of a dbusmenu layout.
fn menu_entry(node: &Value<'_>) -> Result<TrayMenuEntry, String> {
    let Value::Structure(node) = unwrap_variant(node) else {
        return Err(format!("a tray menu entry is not a structure: {node:?}"));
    };
    let (Some(Value::I32(id)), Some(Value::Dict(properties))) =
        (node.fields().first(), node.fields().get(1))
    else {
        return Err(format!(
            "a tray menu entry has no id and properties: {node:?}"
        ));
    };
    let label = properties
        .iter()
        .find_map(|(key, value)| match (key, unwrap_variant(value)) {
            (Value::Str(key), Value::Str(label)) if key.as_str() == "label" => {
                Some(label.to_string())
            }
            _ => None,
        })
        .unwrap_or_default();
    Ok(TrayMenuEntry { id: *id, label })
}

fn unwrap_variant<'a>(value: &'a Value<'a>) -> &'a Value<'a> {
    match value {
        Value::Value(inner) => unwrap_variant(inner),
        other => other,
    }
}

/// `org.kde.StatusNotifierWatcher`: keeps who registered, and says a host shows the icons.
struct Watcher {
    items: Arc<Mutex<Vec<TrayItem>>>,
}

#[interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    /// `service` is the icon's object path (libayatana-appindicator) or a bus name.
    async fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: Header<'_>,
    ) {
        let bus_name = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let (bus_name, path) = if service.starts_with('/') {
            (bus_name, service)
        } else {
            (service, "/StatusNotifierItem".to_owned())
        };
        if let Ok(mut items) = self.items.lock() {
            items.push(TrayItem { bus_name, path });
        }
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .map(|items| {
                items
                    .iter()
                    .map(|item| format!("{}{}", item.bus_name, item.path))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}
