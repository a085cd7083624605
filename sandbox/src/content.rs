//! All sandbox content, parsed once per process from the embedded `sites/` tree, with the
//! problems found in it (each naming its file).

use std::sync::OnceLock;

use crate::{apps, feeds, forums, static_sites, telegram};

/// Everything the sites serve (Telegram channels are copied per sandbox so messages can be
/// posted at run time).
#[derive(Debug)]
pub struct Content {
    pub statics: Vec<static_sites::StaticSite>,
    pub channels: Vec<telegram::Channel>,
    pub apps: Vec<apps::App>,
    pub feeds: Vec<feeds::Feed>,
    pub forums: Vec<forums::Forum>,
    /// Files left out (or pages left unlabelled), one line each, naming the file.
    pub errors: Vec<String>,
}

/// The parsed content (parsed on first use).
pub fn get() -> &'static Content {
    static CONTENT: OnceLock<Content> = OnceLock::new();
    CONTENT.get_or_init(|| {
        let mut errors = Vec::new();
        let statics = static_sites::load(&mut errors);
        let channels = telegram::load(&mut errors);
        let apps = apps::load(&mut errors);
        let feeds = feeds::load(&mut errors);
        let forums = forums::load(&mut errors);
        Content {
            statics,
            channels,
            apps,
            feeds,
            forums,
            errors,
        }
    })
}

/// Problems in the content files: every file that failed to parse or validate (and so is
/// not served), every HTML page without a label. Empty when all content is good.
pub fn errors() -> Vec<String> {
    get().errors.clone()
}
