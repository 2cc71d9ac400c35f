// Compiles nordbrief's ingest module into the fuzz target as it is in the
// repository (shared by all targets through `#[path]`).
#[path = "../../crates/nordbrief/src/ingest/mod.rs"]
pub mod ingest;
