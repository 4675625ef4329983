fn main() -> std::process::ExitCode {
    waymark_clinic::cli::main()
}
