//! `tipx`: the node daemon and its command line.

mod store;

fn main() {}
