use clap::Subcommand;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Known models: id, size, whether cached and where.
    List {
        /// Print one JSON array: id, name, kind (text or embedding), default, size, cached, verified, path, source.
        #[arg(long)]
        json: bool,
    },
    /// Download (or assemble from the mirror) and verify a model.
    Pull {
        /// Model id [default: the default model].
        id: Option<String>,
        #[arg(long, env = "NORDBRIEF_ALLOW_UNPINNED")]
        allow_unpinned: bool,
    },
    /// Re-hash every cached file of a model against its pins.
    Verify { id: Option<String> },
}
