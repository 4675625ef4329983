fn main() {
    waymark_desktop::run()
}
