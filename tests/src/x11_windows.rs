//! The test desktop's top-level windows as the X server sees them, for the end-to-end tests:
//! finding the app's window by its title, whether it is shown, and asking it to close the way
//! a window manager's close button does (`WM_DELETE_WINDOW`), which WebDriver cannot.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, GetPropertyReply, MapState,
    Window,
};
use x11rb::rust_connection::RustConnection;

/// A connection to one X display.
pub struct X11Windows {
    connection: RustConnection,
    root: Window,
    atoms: Atoms,
}

struct Atoms {
    wm_protocols: Atom,
    wm_delete_window: Atom,
    net_wm_name: Atom,
    utf8_string: Atom,
}

impl X11Windows {
    /// Connects to `display`, e.g. `:99`.
    pub fn connect(display: &str) -> Result<Self, String> {
        let (connection, screen) = x11rb::connect(Some(display))
            .map_err(|e| format!("cannot connect to the X display {display}: {e}"))?;
        let root = connection
            .setup()
            .roots
            .get(screen)
            .map(|screen| screen.root)
            .ok_or_else(|| format!("the X display {display} has no screen {screen}"))?;
        let atom = |name: &str| -> Result<Atom, String> {
            connection
                .intern_atom(false, name.as_bytes())
                .map_err(|e| e.to_string())
                .and_then(|cookie| cookie.reply().map_err(|e| e.to_string()))
                .map(|reply| reply.atom)
                .map_err(|e| format!("cannot look up the X atom {name}: {e}"))
        };
        let atoms = Atoms {
            wm_protocols: atom("WM_PROTOCOLS")?,
            wm_delete_window: atom("WM_DELETE_WINDOW")?,
            net_wm_name: atom("_NET_WM_NAME")?,
            utf8_string: atom("UTF8_STRING")?,
        };
        Ok(Self {
            connection,
            root,
            atoms,
        })
    }

    /// The titles of the top-level windows that are shown now (a window that goes away while
    /// it is being read is left out).
    pub fn shown_titles(&self) -> Result<Vec<String>, String> {
        let mut titles = Vec::new();
        for window in self.top_level()? {
            if let (Ok(true), Ok(Some(title))) = (self.is_shown(window), self.title(window)) {
                titles.push(title);
            }
        }
        Ok(titles)
    }

    /// The one top-level window titled `title` that takes `WM_DELETE_WINDOW` (an app's real
    /// window, not one of the toolkit's hidden helpers).
    pub fn find(&self, title: &str) -> Result<Window, String> {
        let mut found = Vec::new();
        for window in self.top_level()? {
            if self.title(window)?.as_deref() == Some(title) && self.takes_delete(window)? {
                found.push(window);
            }
        }
        match found.as_slice() {
            [window] => Ok(*window),
            [] => Err(format!("no X window is titled {title:?}")),
            many => Err(format!("{} X windows are titled {title:?}", many.len())),
        }
    }

    /// Whether `window` is shown (mapped, with every ancestor mapped).
    pub fn is_shown(&self, window: Window) -> Result<bool, String> {
        let attributes = self
            .connection
            .get_window_attributes(window)
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.reply().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot read the X window {window:#x}: {e}"))?;
        Ok(attributes.map_state == MapState::VIEWABLE)
    }

    /// Asks `window` to close, as a window manager does when its close button is pressed.
    pub fn request_close(&self, window: Window) -> Result<(), String> {
        let message = ClientMessageEvent::new(
            32,
            window,
            self.atoms.wm_protocols,
            [self.atoms.wm_delete_window, x11rb::CURRENT_TIME, 0, 0, 0],
        );
        self.connection
            .send_event(false, window, EventMask::NO_EVENT, message)
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.check().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot send WM_DELETE_WINDOW to {window:#x}: {e}"))
    }

    fn top_level(&self) -> Result<Vec<Window>, String> {
        self.connection
            .query_tree(self.root)
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.reply().map_err(|e| e.to_string()))
            .map(|tree| tree.children)
            .map_err(|e| format!("cannot list the X windows: {e}"))
    }

    fn title(&self, window: Window) -> Result<Option<String>, String> {
        let value = self
            .property(window, self.atoms.net_wm_name, self.atoms.utf8_string)?
            .value;
        Ok((!value.is_empty()).then(|| String::from_utf8_lossy(&value).into_owned()))
    }

    fn takes_delete(&self, window: Window) -> Result<bool, String> {
        let protocols = self.property(window, self.atoms.wm_protocols, AtomEnum::ATOM.into())?;
        Ok(protocols
            .value32()
            .is_some_and(|mut atoms| atoms.any(|atom| atom == self.atoms.wm_delete_window)))
    }

    fn property(&self, window: Window, name: Atom, kind: Atom) -> Result<GetPropertyReply, String> {
        self.connection
            .get_property(false, window, name, kind, 0, 1024)
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.reply().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot read a property of the X window {window:#x}: {e}"))
    }
}
