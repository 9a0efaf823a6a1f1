//! The app's command-line options (`--demo`, `--demo-devices N`), parsed by hand: the app takes almost none, and
//! launchers on some platforms add arguments of their own, which are ignored with a warning.

/// How the user asked the app to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Start the simulator of the Sharp cloud in-process and use it.
    pub demo: bool,
    /// How many printers the demo simulates (its default when absent).
    pub demo_devices: Option<usize>,
}

/// What the command line asks for: run the app, or print something and exit.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(LaunchOptions),
    Exit(String),
}

pub const USAGE: &str = "Usage: mcp-rmm [--demo] [--demo-devices N]\n\n  --demo            start the built-in simulator of the Sharp cloud and use it\n  --demo-devices N  the demo's fleet size (1 to 100000; implies --demo)\n  --version         print the version\n  --help            print this help";

/// The largest demo fleet (the simulator holds it in memory).
const MAX_DEMO_DEVICES: usize = 100_000;

impl LaunchOptions {
    /// Reads the arguments after the program name.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
        let mut options = LaunchOptions::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    (name.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            match name.as_str() {
                "--demo" => options.demo = true,
                "--demo-devices" => {
                    let value = inline.or_else(|| args.next()).unwrap_or_default();
                    let count = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_DEMO_DEVICES).contains(n))
                        .ok_or_else(|| {
                            format!("--demo-devices: must be a number from 1 to {MAX_DEMO_DEVICES}, got `{value}`")
                        })?;
                    options.demo = true;
                    options.demo_devices = Some(count);
                }
                "-h" | "--help" => return Ok(Parsed::Exit(USAGE.to_string())),
                "-V" | "--version" => {
                    return Ok(Parsed::Exit(format!(
                        "mcp-rmm {}",
                        env!("CARGO_PKG_VERSION")
                    )));
                }
                other if other.starts_with("--") => {
                    return Err(format!("unknown option `{other}`"));
                }
                // e.g. macOS's `-psn_...` process serial number: not ours, not an error.
                other => eprintln!("mcp-rmm: ignoring argument `{other}`"),
            }
        }
        Ok(Parsed::Run(options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        LaunchOptions::from_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn no_arguments_run_without_the_simulator() {
        assert_eq!(
            parse(&[]),
            Ok(Parsed::Run(LaunchOptions {
                demo: false,
                demo_devices: None
            }))
        );
    }

    #[test]
    fn demo_starts_the_simulator() {
        assert_eq!(
            parse(&["--demo"]),
            Ok(Parsed::Run(LaunchOptions {
                demo: true,
                demo_devices: None
            }))
        );
    }

    #[test]
    fn an_unknown_option_is_named_in_the_error() {
        let error = parse(&["--demmo"]).unwrap_err();
        assert!(error.contains("--demmo"), "{error}");
    }

    #[test]
    fn demo_devices_sets_the_fleet_size_and_implies_demo() {
        let expected = Ok(Parsed::Run(LaunchOptions {
            demo: true,
            demo_devices: Some(10_000),
        }));
        assert_eq!(parse(&["--demo-devices", "10000"]), expected);
        assert_eq!(parse(&["--demo-devices=10000"]), expected);
        for bad in ["0", "lots", "100001"] {
            let error = parse(&["--demo-devices", bad]).unwrap_err();
            assert!(
                error.contains("--demo-devices") && error.contains(bad),
                "{error}"
            );
        }
        assert!(
            parse(&["--demo-devices"])
                .unwrap_err()
                .contains("--demo-devices")
        );
    }

    #[test]
    fn help_and_version_exit() {
        assert!(matches!(parse(&["--help"]), Ok(Parsed::Exit(text)) if text.contains("--demo")));
        assert!(
            matches!(parse(&["--version"]), Ok(Parsed::Exit(text)) if text.starts_with("mcp-rmm "))
        );
    }

    #[test]
    fn a_foreign_positional_argument_is_ignored() {
        assert_eq!(
            parse(&["-psn_0_12345", "--demo"]),
            Ok(Parsed::Run(LaunchOptions {
                demo: true,
                demo_devices: None
            }))
        );
    }
}
