//! The embedded `sites/` tree: every file under `sandbox/sites/`, compiled in by `build.rs`,
//! looked up by its path relative to `sites/` (e.g. `invest/index.html`).

mod generated {
    include!(concat!(env!("OUT_DIR"), "/sites.rs"));
}

/// Every embedded file as (path relative to `sites/`, bytes), sorted by path.
pub fn all() -> &'static [(&'static str, &'static [u8])] {
    generated::FILES
}

/// Files directly in folder `dir` (not in its subfolders) whose name ends with `ext`, as
/// (file stem, full path, bytes), sorted by stem.
pub fn in_folder(dir: &str, ext: &str) -> Vec<(&'static str, &'static str, &'static [u8])> {
    let prefix = format!("{dir}/");
    let mut out: Vec<_> = all()
        .iter()
        .filter_map(|&(path, bytes)| {
            let name = path.strip_prefix(prefix.as_str())?;
            if name.contains('/') || name.starts_with('_') {
                return None;
            }
            Some((name.strip_suffix(ext)?, path, bytes))
        })
        .collect();
    out.sort_by_key(|(stem, _, _)| *stem);
    out
}
