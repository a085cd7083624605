//! Embeds every file under `sites/` into the binary: writes `$OUT_DIR/sites.rs`, a table of
//! (path relative to `sites/`, bytes), so content added there needs no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir")).join("sites");
    println!("cargo:rerun-if-changed=build.rs");
    // A directory here makes cargo rescan everything under it for changes.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        walk(&root, &mut files);
    }
    files.sort();
    let mut out = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("under sites/")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        println!("cargo:rerun-if-changed={}", path.display());
        let abs = path.to_string_lossy().into_owned();
        writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),").expect("write to string");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("out dir")).join("sites.rs");
    std::fs::write(dest, out).expect("write sites.rs");
}

/// Every regular file below `dir`, skipping hidden files and editor leftovers.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            println!(
                "cargo:warning=sandbox: skipping {} (name is not UTF-8)",
                entry.path().display()
            );
            continue;
        };
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}
