//! The `sealtag` binary: harden the process, parse arguments, run one
//! command (or the GUI), and turn the outcome into an exit code.

use clap::Parser;
use std::process::ExitCode;

use sealtag::cli::{self, Cli, Exit, args::Command};

fn main() -> ExitCode {
    sealtag::platform::disable_core_dumps();
    // Before any thread exists and before any input is read.
    if let Err(e) = sealtag::platform::forbid_network() {
        eprintln!("sealtag: {e}");
        return ExitCode::from(Exit::Error as u8);
    }
    quiet_on_broken_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage as u8
            } else {
                Exit::Ok as u8
            });
        }
    };
    let result = match &cli.command {
        None => run_gui(&cli, false, None),
        Some(Command::Demo { setup_only: false }) => run_gui(&cli, true, None),
        Some(Command::Open { path }) => run_gui(&cli, false, Some(path.clone())),
        Some(command) => cli::run(&cli, command),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        // The reader went away (`sealtag … | head`): the work is done and
        // nobody is left to tell, so this is not an error worth a message.
        Err(e) if is_broken_pipe(&e) => ExitCode::from(Exit::Ok as u8),
        Err(e) => {
            eprintln!("sealtag: {e:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}

/// `println!` panics when stdout's reader has gone (`sealtag audit log |
/// head`): that is the reader's choice, not a failure of ours, so exit 0
/// without a panic message, as [`is_broken_pipe`] does for written errors.
/// Output comes after the work it reports is committed, so nothing is lost.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(Exit::Ok as i32);
        }
        default(info);
    }));
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        // serde_json wraps the io::Error and does not expose it as a source.
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|json| json.io_error_kind() == Some(BrokenPipe))
    })
}

/// Starts the GUI with what it needs from the command line. A passphrase
/// given to a script is read here (the GUI never prompts on the terminal).
#[cfg(feature = "gui")]
fn run_gui(cli: &Cli, demo: bool, project: Option<std::path::PathBuf>) -> anyhow::Result<Exit> {
    let file = cli.passphrase_file.as_deref();
    let passphrase = sealtag::passphrase::is_preset(file)
        .then(|| sealtag::passphrase::read(file, "", false))
        .transpose()?;
    sealtag::gui::run(sealtag::gui::Launch {
        home: cli.home.clone(),
        demo,
        project,
        passphrase,
        exit_after_secs: cli.exit_after_secs,
        screenshot: cli.screenshot.clone(),
        run_on_open: cli.run_on_open.clone(),
    })?;
    Ok(Exit::Ok)
}

#[cfg(not(feature = "gui"))]
fn run_gui(_cli: &Cli, _demo: bool, _project: Option<std::path::PathBuf>) -> anyhow::Result<Exit> {
    anyhow::bail!(
        "this sealtag was built without the GUI (feature `gui`); use a subcommand, see --help"
    )
}
