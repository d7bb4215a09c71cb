//! A rule's documentation, as `docklint explain` prints it and the language server shows it
//! on hover (Markdown: the rule's `.md`, examples included).

use crate::rule::Meta;

pub fn render(meta: &Meta) -> String {
    let mut out = meta.doc.trim_end().to_string();
    out.push('\n');
    out
}
