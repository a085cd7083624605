//! `scamsweep`: the one binary for every role. All logic lives in the library.

fn main() -> std::process::ExitCode {
    scamsweep::cli::main()
}
