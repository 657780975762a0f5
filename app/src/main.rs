//! The `boxoffice` binary: parse the command line and run it.

fn main() -> std::process::ExitCode {
    app::cli::main()
}
