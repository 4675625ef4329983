//! Typst as a library: a closed world holding only the templates, the
//! document's data and the shipped fonts. The laptop's printouts
//! (`waymark-print`) and the clinic's minutes both typeset through it. Nothing is read from disk or the
//! network while compiling, and the date comes from the caller's clock, so the
//! same data and clock give the same bytes.

#[cfg(feature = "test-kit")]
pub mod kit;

use chrono::{DateTime, Datelike, Timelike, Utc};
use std::collections::HashMap;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::layout::{Frame, FrameItem};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

const FONTS: [&[u8]; 4] = [
    include_bytes!("../../../assets/fonts/AtkinsonHyperlegible-Regular.ttf"),
    include_bytes!("../../../assets/fonts/AtkinsonHyperlegible-Bold.ttf"),
    include_bytes!("../../../assets/fonts/AtkinsonHyperlegible-Italic.ttf"),
    include_bytes!("../../../assets/fonts/AtkinsonHyperlegible-BoldItalic.ttf"),
];

/// What went wrong typesetting: a template that does not compile (named,
/// with its line, never the data), or something that should not happen.
#[derive(Debug, thiserror::Error)]
pub enum TypesetError {
    #[error("the template {file} does not compile")]
    Template { file: String, line: Option<usize> },
    #[error("the {what} could not be made")]
    Internal { what: &'static str },
}

pub type Result<T> = std::result::Result<T, TypesetError>;

/// The path templates read their data from: `json("/data.json")`.
pub const DATA_FILE: &str = "data.json";

/// Fonts and the standard library, built once and shared by every render.
pub struct Engine {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("fonts", &self.fonts.len()).finish()
    }
}

/// A compiled document: the PDF, the text a reader would extract, and the
/// laid-out pages for previews.
pub struct Compiled {
    pub document: PagedDocument,
    pub pdf: Vec<u8>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        let fonts: Vec<Font> = FONTS.iter().flat_map(|data| Font::iter(Bytes::new(*data))).collect();
        Self {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    }

    /// Compiles `main` (one of `files`, by name) with `data` as `/data.json`
    /// and writes a tagged PDF stamped with `now`.
    /// `neutral`: the PDF's metadata names no program and no template (the
    /// discreet plan, which a perpetrator may open and inspect).
    pub fn compile<'f>(
        &self,
        files: impl IntoIterator<Item = (&'f str, &'f [u8])>,
        main: &str,
        data: &serde_json::Value,
        now: DateTime<Utc>,
        neutral: bool,
    ) -> Result<Compiled> {
        let data = serde_json::to_vec(data).map_err(|_| TypesetError::Internal { what: "document data" })?;
        let world = PrintWorld::new(self, files, main, data, now);
        let warned = typst::compile::<PagedDocument>(&world);
        let document = warned.output.map_err(|errors| template_error(&world, main, errors.as_slice()));
        // Typst memoises layout in a process-wide cache that would keep this
        // case's text in memory after the print (and after locking). Each
        // print starts and ends with it empty.
        typst::comemo::evict(0);
        let document = document?;
        let (ident, creator) = if neutral {
            ("document".to_owned(), None)
        } else {
            (format!("waymark/{main}"), Some("Waymark".to_owned()))
        };
        let options = typst_pdf::PdfOptions {
            ident: typst::foundations::Smart::Custom(ident),
            // `Custom(None)` writes no creator at all; `Auto` would write "Typst".
            creator: typst::foundations::Smart::Custom(creator),
            timestamp: typst_datetime(now).map(typst_pdf::Timestamp::new_utc),
            tagged: true,
            ..Default::default()
        };
        let pdf = typst_pdf::pdf(&document, &options)
            .map_err(|_| TypesetError::Template { file: main.to_owned(), line: None });
        typst::comemo::evict(0);
        let pdf = pdf?;
        Ok(Compiled { document, pdf })
    }
}

/// Names the template and line a compile error points at, never the data.
fn template_error(world: &PrintWorld<'_>, main: &str, errors: &[typst::diag::SourceDiagnostic]) -> TypesetError {
    use typst::WorldExt;
    let first = errors.first();
    let located = first.and_then(|d| {
        let id = d.span.id()?;
        let range = world.range(d.span)?;
        let source = world.source(id).ok()?;
        let line = source.lines().byte_to_line(range.start)? + 1;
        let file = id.vpath().get_without_slash().to_owned();
        Some((file, line))
    });
    tracing::warn!(template = main, errors = errors.len(), "template did not compile");
    match located {
        Some((file, line)) => TypesetError::Template { file, line: Some(line) },
        None => TypesetError::Template { file: main.to_owned(), line: None },
    }
}

fn typst_datetime(at: DateTime<Utc>) -> Option<Datetime> {
    Datetime::from_ymd_hms(
        at.year(),
        u8::try_from(at.month()).ok()?,
        u8::try_from(at.day()).ok()?,
        u8::try_from(at.hour()).ok()?,
        u8::try_from(at.minute()).ok()?,
        u8::try_from(at.second()).ok()?,
    )
}

fn file_id(name: &str) -> Option<FileId> {
    let path = VirtualPath::new(format!("/{name}")).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, path).intern())
}

struct PrintWorld<'a> {
    engine: &'a Engine,
    main: FileId,
    files: HashMap<FileId, Bytes>,
    now: DateTime<Utc>,
}

impl<'a> PrintWorld<'a> {
    fn new<'f>(
        engine: &'a Engine,
        templates: impl IntoIterator<Item = (&'f str, &'f [u8])>,
        main: &str,
        data: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut files: HashMap<FileId, Bytes> = templates
            .into_iter()
            .filter_map(|(name, bytes)| Some((file_id(name)?, Bytes::new(bytes.to_vec()))))
            .collect();
        if let Some(id) = file_id(DATA_FILE) {
            files.insert(id, Bytes::new(data));
        }
        // An unknown main file is reported as a missing file by `source`.
        let main = file_id(main).unwrap_or_else(|| file_id("missing.typ").expect("a valid fixed path"));
        Self { engine, main, files, now }
    }
}

impl World for PrintWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.engine.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.engine.book
    }
    fn main(&self) -> FileId {
        self.main
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(bytes.as_slice()).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_owned()))
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.engine.fonts.get(index).cloned()
    }
    fn today(&self, offset: Option<Duration>) -> Option<Datetime> {
        // Templates get dates preformatted in UK time; this serves `datetime.today()` only.
        let at = match offset {
            Some(offset) => self.now + chrono::Duration::seconds(offset.seconds() as i64),
            None => waymark_domain::time::london_date(self.now).and_hms_opt(0, 0, 0)?.and_utc(),
        };
        Datetime::from_ymd(at.year(), u8::try_from(at.month()).ok()?, u8::try_from(at.day()).ok()?)
    }
}

/// The text of each page in reading order, as a person (or a PDF reader)
/// would get it: the discreet check reads this.
pub fn page_texts(document: &PagedDocument) -> Vec<String> {
    document
        .pages()
        .iter()
        .map(|page| {
            let mut out = String::new();
            collect_text(&page.frame, &mut out);
            out
        })
        .collect()
}

fn collect_text(frame: &Frame, out: &mut String) {
    for (_, item) in frame.items() {
        match item {
            FrameItem::Group(group) => collect_text(&group.frame, out),
            FrameItem::Text(text) => {
                out.push_str(&text.text);
                out.push(' ');
            }
            _ => {}
        }
    }
}

/// The text size, in points, that most glyphs are set in: the body text.
pub fn body_text_pt(document: &PagedDocument) -> f64 {
    fn tally(frame: &Frame, sizes: &mut std::collections::BTreeMap<u64, usize>) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(group) => tally(&group.frame, sizes),
                FrameItem::Text(text) => {
                    *sizes.entry((text.size.to_pt() * 100.0).round() as u64).or_default() += text.glyphs.len()
                }
                _ => {}
            }
        }
    }
    let mut sizes = std::collections::BTreeMap::new();
    for page in document.pages() {
        tally(&page.frame, &mut sizes);
    }
    sizes.into_iter().max_by_key(|(_, glyphs)| *glyphs).map(|(size, _)| size as f64 / 100.0).unwrap_or(0.0)
}

/// Whether any page holds a picture; a discreet plan must hold none.
pub fn has_images(document: &PagedDocument) -> bool {
    fn frame_has_image(frame: &Frame) -> bool {
        frame.items().any(|(_, item)| match item {
            FrameItem::Group(group) => frame_has_image(&group.frame),
            FrameItem::Image(..) => true,
            _ => false,
        })
    }
    document.pages().iter().any(|page| frame_has_image(&page.frame))
}

/// Renders each page to PNG at `pixels_per_point` for an on-screen preview.
pub fn page_images(document: &PagedDocument, pixels_per_point: f32) -> Result<Vec<Vec<u8>>> {
    let options =
        typst_render::RenderOptions { pixel_per_pt: f64::from(pixels_per_point).into(), ..Default::default() };
    document
        .pages()
        .iter()
        .map(|page| {
            typst_render::render(page, &options).encode_png().map_err(|_| TypesetError::Internal { what: "page image" })
        })
        .collect()
}

/// A laid-out document, for previews and the checks that read its pages.
pub use typst_layout::PagedDocument as Document;
