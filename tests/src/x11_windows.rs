//! The test desktop's top-level windows as the X server sees them, for the end-to-end tests:
//! finding the app's window by its title, whether it is shown, and asking it to close the way
//! a window manager's close button does (`WM_DELETE_WINDOW`), which WebDriver cannot; and
//! reading the screen, for a screenshot when WebKit does not answer.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, GetPropertyReply,
    ImageFormat, MapState, Window,
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

    /// The whole screen as the X server holds it, as PNG: what a person would see. Read with
    /// `GetImage` on the root window, so it does not depend on the app answering.
    pub fn screen_png(&self) -> Result<Vec<u8>, String> {
        let geometry = self
            .connection
            .get_geometry(self.root)
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.reply().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot read the screen's size: {e}"))?;
        let (width, height) = (geometry.width, geometry.height);
        let image = self
            .connection
            .get_image(ImageFormat::Z_PIXMAP, self.root, 0, 0, width, height, !0)
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.reply().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot read the screen: {e}"))?;
        let pixels = usize::from(width) * usize::from(height);
        if image.data.len() < pixels * 4 {
            return Err(format!(
                "the screen's image has {} bytes for {width}x{height} pixels at depth {}",
                image.data.len(),
                image.depth
            ));
        }
        // Depth 24 in 32-bit pixels, least significant byte first: blue, green, red, unused.
        let rgb: Vec<u8> = image.data[..pixels * 4]
            .chunks_exact(4)
            .flat_map(|pixel| [pixel[2], pixel[1], pixel[0]])
            .collect();
        let mut png = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png, u32::from(width), u32::from(height));
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder
                .write_header()
                .and_then(|mut writer| writer.write_image_data(&rgb))
                .map_err(|e| format!("cannot encode the screen as PNG: {e}"))?;
        }
        Ok(png)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::desktop::Desktop;

    #[test]
    fn the_screen_is_read_as_a_png_of_the_displays_size() {
        let desktop = Desktop::start().unwrap();
        let png = X11Windows::connect(desktop.display())
            .unwrap()
            .screen_png()
            .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        // The test desktop's Xvfb screen (desktop.rs).
        assert_eq!((info.width, info.height), crate::desktop::SCREEN);
        assert_eq!(info.color_type, png::ColorType::Rgb);
    }
}
