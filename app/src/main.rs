//! The `scamsweep` binary: everything lives in the library; see [`scamsweep::cli`].

/// candle allocates a fresh buffer for every tensor op; glibc serves large ones with new
/// mappings that page-fault on first touch. mimalloc reuses them: training runs 2-3x faster.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    scamsweep::cli::main()
}
