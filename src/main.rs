//! The `bsu` binary: install the panic/error reporter, hand the arguments to the
//! library, and turn its answer into the process exit code. Nothing else lives here.

fn main() -> std::process::ExitCode {
    // color-eyre only reports the unexpected; expected failures are typed errors
    // that `bsu::run` has already printed with their exit code.
    let _ = color_eyre::install();
    std::process::ExitCode::from(bsu::run(std::env::args_os()))
}
