//! The app's command-line options (`--demo`), parsed by hand: the app takes almost none, and
//! launchers on some platforms add arguments of their own, which are ignored with a warning.

/// How the user asked the app to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Start the simulator of the Sharp cloud in-process and use it.
    pub demo: bool,
}

/// What the command line asks for: run the app, or print something and exit.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(LaunchOptions),
    Exit(String),
}

pub const USAGE: &str = "Usage: mcp-rmm [--demo]\n\n  --demo     start the built-in simulator of the Sharp cloud and use it\n  --version  print the version\n  --help     print this help";

impl LaunchOptions {
    /// Reads the arguments after the program name.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
        let mut options = LaunchOptions::default();
        for arg in args {
            match arg.as_str() {
                "--demo" => options.demo = true,
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
        assert_eq!(parse(&[]), Ok(Parsed::Run(LaunchOptions { demo: false })));
    }

    #[test]
    fn demo_starts_the_simulator() {
        assert_eq!(
            parse(&["--demo"]),
            Ok(Parsed::Run(LaunchOptions { demo: true }))
        );
    }

    #[test]
    fn an_unknown_option_is_named_in_the_error() {
        let error = parse(&["--demmo"]).unwrap_err();
        assert!(error.contains("--demmo"), "{error}");
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
            Ok(Parsed::Run(LaunchOptions { demo: true }))
        );
    }
}
