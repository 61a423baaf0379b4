//! Prints `hello, world`: the smallest printing guest, whose whole-process start-up
//! `runner/benches/startup.rs` times.

fn main() {
    println!("hello, world");
}
