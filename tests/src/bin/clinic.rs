//! The clinic server as a helper process, so scenarios can SIGKILL it.
fn main() -> std::process::ExitCode {
    waymark_clinic::cli::main()
}
