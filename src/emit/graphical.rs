//! miette's graphical report, without colour, written straight for the common case: a
//! diagnostic whose every span lies on one line. A 50 MB file can have millions of
//! findings, and miette builds each through styled strings, boxed contents and a copy of
//! every line shown; here a finding is a few pushes onto the output. When every line it
//! shows is short printable ASCII, the lines are read from the file itself
//! ([`Drawer::render_plain`]); otherwise from the excerpt `text` makes of them
//! ([`Drawer::render`]), which escapes and cuts what the terminal must not see whole.
//!
//! The layout is miette 7.6's, byte for byte, with the settings `text` gives it (unicode,
//! no colour, no wrapping, no links, one line of context): the tests compare the two on
//! the corpus and on many random shapes. Whatever this does not draw (a span over several
//! lines, a label of several lines, a cause chain, a read that fails) makes [`render`]
//! write nothing and return false, and miette renders the diagnostic.

use std::borrow::Cow;
use std::fmt::Write;
use std::ops::Range;

use miette::{LabeledSpan, Severity, ThemeCharacters};
use smallvec::SmallVec;
use unicode_width::UnicodeWidthChar;

use super::escape::{escape, escape_line, is_all};
use super::excerpt::{last_content_line, line_content, Excerpt, MAX_LINE_BYTES};
use crate::rule::Diagnostic;
use crate::source::{bom_len, SourceFile};

/// Lines of context around each label, as miette's handler has them by default.
const CONTEXT_LINES: usize = 1;
/// Columns a tab advances to a multiple of (miette's default).
const TAB_WIDTH: usize = 4;
/// Spans of a diagnostic drawn from its file at most: a sort of this many keeps equal
/// offsets in order, as miette's sort of them does.
const MAX_PLAIN_SPANS: usize = 20;

/// Draws diagnostics in miette's no-colour graphical layout, with what every diagnostic
/// shares (the theme's prefixes, a buffer for text) made once.
pub struct Drawer {
    chars: ThemeCharacters,
    /// `  {icon} ` of each severity, and `  {vbar} `: before the message's lines.
    prefixes: Prefixes,
    scratch: String,
    said: Said,
}

struct Prefixes {
    error: String,
    warning: String,
    advice: String,
    rest: String,
}

impl Prefixes {
    /// Before the first line of a message of `severity`.
    fn first(&self, severity: Option<Severity>) -> &str {
        match severity {
            Some(Severity::Error) | None => &self.error,
            Some(Severity::Warning) => &self.warning,
            Some(Severity::Advice) => &self.advice,
        }
    }
}

/// The message and help [`Report::plain`] drew last. A big file's findings are mostly one
/// rule's saying the same things: each is drawn once, then copied while it stays the same.
#[derive(Default)]
struct Said {
    message: LastDrawn,
    help: LastDrawn,
}

/// A text as drawn, with what it was drawn from.
#[derive(Default)]
struct LastDrawn {
    from: Option<(Option<Severity>, String)>,
    drawn: String,
}

impl LastDrawn {
    /// Appends the drawing of `text` (of `severity`) to `out`: the one kept when both are
    /// what it was drawn from, else `draw`'s, kept for the next.
    fn draw(
        &mut self,
        out: &mut String,
        (severity, text): (Option<Severity>, &str),
        draw: impl FnOnce(&mut String),
    ) {
        let same = matches!(&self.from, Some((s, t)) if *s == severity && t == text);
        if !same {
            let (kept_severity, kept_text) = self.from.get_or_insert_default();
            *kept_severity = severity;
            kept_text.clear();
            kept_text.push_str(text);
            self.drawn.clear();
            draw(&mut self.drawn);
        }
        out.push_str(&self.drawn);
    }
}

impl Drawer {
    pub fn new(chars: ThemeCharacters) -> Drawer {
        let prefixes = Prefixes {
            error: format!("  {} ", chars.error),
            warning: format!("  {} ", chars.warning),
            advice: format!("  {} ", chars.advice),
            rest: format!("  {} ", chars.vbar),
        };
        Drawer {
            chars,
            prefixes,
            scratch: String::new(),
            said: Said::default(),
        }
    }

    /// Appends `d`, a diagnostic of `file` shown under `name`, to `out` as `render` would
    /// draw it, but straight from the file: for the common finding, whose lines are plain
    /// text, an excerpt would be a copy of them. Returns false, having appended nothing,
    /// for the others.
    pub fn render_plain(
        &mut self,
        out: &mut String,
        name: &str,
        file: &SourceFile,
        d: &Diagnostic,
    ) -> bool {
        let start = out.len();
        let drawn = self.report(out).plain(name, file, d).is_some();
        if !drawn {
            out.truncate(start);
        }
        drawn
    }

    fn report<'a>(&'a mut self, out: &'a mut String) -> Report<'a> {
        Report {
            out,
            chars: &self.chars,
            prefixes: &self.prefixes,
            scratch: &mut self.scratch,
            said: &mut self.said,
        }
    }

    /// Appends `diagnostic`, whose source code is `source`, to `out` as miette's no-colour
    /// graphical handler would, and returns true; or appends nothing and returns false
    /// when it is not the common case.
    pub fn render(
        &mut self,
        out: &mut String,
        diagnostic: &dyn miette::Diagnostic,
        source: &Excerpt,
    ) -> bool {
        let start = out.len();
        let drawn = self.report(out).diagnostic(diagnostic, source).is_some();
        if !drawn {
            out.truncate(start);
        }
        drawn
    }
}

struct Report<'a> {
    out: &'a mut String,
    chars: &'a ThemeCharacters,
    prefixes: &'a Prefixes,
    scratch: &'a mut String,
    said: &'a mut Said,
}

/// A label as miette draws it: its span in the source, and its text.
#[derive(PartialEq)]
struct Span<'a> {
    offset: usize,
    len: usize,
    label: Option<&'a str>,
}

/// The columns of the vertical bars of a line's labels.
type Bars = SmallVec<[usize; 4]>;

/// A line of a context: its number (1-based), where it starts in the source, its length
/// with the line break, and its text without it.
struct Line<'a> {
    number: usize,
    offset: usize,
    length: usize,
    text: &'a str,
}

impl Line<'_> {
    fn end(&self) -> usize {
        self.offset + self.length
    }

    fn holds(&self, span: &Span) -> bool {
        span.offset >= self.offset && span.offset + span.len <= self.end()
    }

    /// Whether the span shows on this line at all (miette's `span_applies`): it starts,
    /// ends or passes through it. An empty span counts as one byte.
    fn touches(&self, span: &Span) -> bool {
        let len = span.len.max(1);
        (span.offset >= self.offset && span.offset < self.end())
            || (span.offset < self.offset && span.offset + len > self.end())
            || (span.offset + len > self.offset && span.offset + len <= self.end())
    }
}

impl Report<'_> {
    fn diagnostic(&mut self, d: &dyn miette::Diagnostic, source: &Excerpt) -> Option<()> {
        // Parts of a report this does not draw.
        if d.url().is_some()
            || d.related().is_some()
            || d.diagnostic_source().is_some()
            || d.source().is_some()
        {
            return None;
        }
        if let Some(code) = d.code() {
            writeln!(self.out, "{code}\n").ok()?;
        }
        self.scratch.clear();
        write!(self.scratch, "{d}").ok()?;
        self.message(d.severity());
        if let Some(labels) = d.labels() {
            self.snippets(source, labels.collect())?;
        }
        if let Some(help) = d.help() {
            self.scratch.clear();
            write!(self.scratch, "{help}").ok()?;
            indented(self.out, self.scratch, "  help: ", "        ");
        }
        Some(())
    }

    /// The message in `scratch`, behind the icon of `severity`.
    fn message(&mut self, severity: Option<Severity>) {
        let prefixes = self.prefixes;
        indented(
            self.out,
            self.scratch,
            prefixes.first(severity),
            &prefixes.rest,
        );
    }

    /// What [`Report::diagnostic`] draws of the [`Shown`](super::text) form of `d`, drawn
    /// from `file` itself when the excerpt would hold the file's lines unchanged: each span
    /// is a non-empty part of one line, and every line shown is printable ASCII no longer
    /// than an excerpt shows whole. Anything else is the excerpt's to draw (`None`).
    fn plain(&mut self, name: &str, file: &SourceFile, d: &Diagnostic) -> Option<()> {
        let text = file.text.as_str();
        // Past this many spans a sort by offset may not keep the order of equal ones,
        // which miette's drawing of the excerpt depends on.
        if d.labels.len() >= MAX_PLAIN_SPANS || bom_len(text) > 0 {
            return None;
        }
        let messages: SmallVec<[Cow<str>; 2]> =
            d.labels.iter().map(|l| escape_line(&l.message)).collect();
        // The primary span (the one without a label), then the labels' (as `Shown` gives
        // them), in the order miette's sort puts them.
        let given = std::iter::once((&d.span, None)).chain(
            d.labels
                .iter()
                .zip(&messages)
                .map(|(l, m)| (&l.span, Some(&**m))),
        );
        let mut spans: SmallVec<[Span; 4]> = given
            .map(|(range, label)| Span {
                offset: range.start,
                len: range.len(),
                label,
            })
            .collect();
        spans.sort_by_key(|span| span.offset);
        // Each span's line: a non-empty part of one plain line.
        let mut span_lines: SmallVec<[usize; 4]> = SmallVec::new();
        for span in &spans {
            let end = span.offset + span.len;
            if span.len == 0 || end > text.len() {
                return None;
            }
            let line = file.lines.line_of(span.offset);
            if end > plain_line(file, line)?.end {
                return None;
            }
            span_lines.push(line);
        }
        // Contexts as `snippets` groups them: a span's line and one each side, joined with
        // the context before when they touch; each its bytes and its first and last line.
        let last_line = last_content_line(file);
        let around = |first: usize, last: usize| {
            let (mut from, to) = (
                first.saturating_sub(CONTEXT_LINES),
                (last + CONTEXT_LINES).min(last_line.max(last)),
            );
            // miette shows no empty first line (as `Excerpt::read`).
            while from < to && is_empty_line(file, from) {
                from += 1;
            }
            (from, to)
        };
        let mut contexts: SmallVec<[(Range<usize>, usize, usize); 2]> = SmallVec::new();
        for (span, &line) in spans.iter().zip(&span_lines) {
            let bytes = span.offset..span.offset + span.len;
            match contexts.last_mut() {
                Some((joined, first, last))
                    if around(*first, *last).1 + 1 >= around(line, line).0 =>
                {
                    joined.end = joined.end.max(bytes.end);
                    *last = (*last).max(line);
                }
                _ => contexts.push((bytes, line, line)),
            }
        }
        self.out.push_str(d.rule);
        self.out.push_str("\n\n");
        let severity = Some(super::text::miette_severity(d.severity));
        let prefixes = self.prefixes;
        let message = (severity, &*d.message);
        self.said.message.draw(self.out, message, |drawn| {
            let first = prefixes.first(severity);
            indented(drawn, &escape(&d.message), first, &prefixes.rest)
        });
        let mut lines: SmallVec<[Line; 4]> = SmallVec::new();
        for (i, (bytes, first, last)) in contexts.iter().enumerate() {
            let (from, mut to) = around(*first, *last);
            // The excerpt ends with the last context: an empty last line is not drawn there
            // (`lines_of` finds no line after the excerpt's final line break).
            if i + 1 == contexts.len() && to > from && is_empty_line(file, to) {
                to -= 1;
            }
            lines.clear();
            for number in from..=to {
                let content = plain_line(file, number)?;
                lines.push(Line {
                    number: number + 1,
                    offset: content.start,
                    length: content.len() + 1,
                    text: &text[content],
                });
            }
            let inside = |&(span, _): &(&Span, &usize)| {
                bytes.start <= span.offset && span.offset + span.len <= bytes.end
            };
            let mut placed = spans.iter().zip(&span_lines).filter(inside);
            let (primary, line) = placed
                .clone()
                .find(|(span, _)| span.label.is_none())
                .or_else(|| placed.next())?;
            let column = primary.offset - file.lines.line_start(*line)?;
            self.draw_context(name, &lines, (*line, column), &spans)?;
        }
        self.scratch.clear();
        if super::text::help_text(d, self.scratch) {
            let help = &**self.scratch;
            self.said.help.draw(self.out, (None, help), |drawn| {
                indented(drawn, help, "  help: ", "        ")
            });
        }
        Some(())
    }

    /// The labels' lines, grouped into contexts where they are close: as miette's
    /// `render_snippets`.
    fn snippets(&mut self, source: &Excerpt, mut labels: Vec<LabeledSpan>) -> Option<()> {
        // The same sort on the same list as miette's, so labels at one offset keep its order.
        labels.sort_unstable_by_key(|l| l.inner().offset());
        let mut contexts: Vec<(Span, usize, usize)> = Vec::with_capacity(labels.len());
        for right in &labels {
            let right = span_of(right);
            let (line, count) = lines_around(source, &right)?;
            if let Some((left, left_line, left_count)) = contexts.last() {
                if left_line + left_count >= line {
                    let end = (left.offset + left.len).max(right.offset + right.len);
                    let merged = Span {
                        offset: left.offset,
                        len: end - left.offset,
                        label: left.label,
                    };
                    let (line, count) = lines_around(source, &merged)?;
                    contexts.pop();
                    contexts.push((merged, line, count));
                    continue;
                }
            }
            contexts.push((right, line, count));
        }
        let spans: Vec<Span> = labels.iter().map(span_of).collect();
        for (context, _, _) in &contexts {
            self.context(source, context, &labels, &spans)?;
        }
        Some(())
    }

    /// One context: a header with the primary label's position, its lines, each followed
    /// by the underlines and labels on it, and a footer (miette's `render_context`).
    fn context(
        &mut self,
        source: &Excerpt,
        context: &Span,
        labels: &[LabeledSpan],
        spans: &[Span],
    ) -> Option<()> {
        let contents = source.read(context.offset, context.len, CONTEXT_LINES, CONTEXT_LINES)?;
        let lines = lines_of(contents.data, contents.line, contents.offset)?;
        // Every label on one line, so no gutter: spans over lines are miette's to draw.
        if lines
            .iter()
            .any(|line| spans.iter().any(|s| !line.holds(s) && line.touches(s)))
        {
            return None;
        }
        let inside = |l: &&LabeledSpan| {
            context.offset <= l.inner().offset()
                && l.inner().offset() + l.inner().len() <= context.offset + context.len
        };
        let primary = labels
            .iter()
            .filter(inside)
            .find(|l| l.primary())
            .or_else(|| labels.iter().find(inside));
        let (line, column) = match primary {
            Some(label) => {
                let contents = source.read(label.inner().offset(), label.inner().len(), 0, 0)?;
                (contents.line, contents.column)
            }
            None => (contents.line, contents.column),
        };
        self.draw_context(source.name(), &lines, (line, column), spans)
    }

    /// A context's header (`[name:line:column]`, 0-based `at`), its lines with the
    /// highlights of `spans` under them, and its footer.
    fn draw_context(
        &mut self,
        name: &str,
        lines: &[Line],
        at: (usize, usize),
        spans: &[Span],
    ) -> Option<()> {
        let width = digits(lines.last().map_or(0, |l| l.number));
        let chars = self.chars;
        push_repeated(self.out, ' ', width + 2);
        self.out.push(chars.ltop);
        self.out.push(chars.hbar);
        // An excerpt always has a name: the header is `[name:line:column]`.
        let mut number = itoa::Buffer::new();
        self.out.push('[');
        self.out.push_str(name);
        self.out.push(':');
        self.out.push_str(number.format(at.0 + 1));
        self.out.push(':');
        self.out.push_str(number.format(at.1 + 1));
        self.out.push_str("]\n");
        // Reused from line to line; a line has a few labels at most, held on the stack.
        let (mut on_line, mut bars) = (SmallVec::<[&Span; 4]>::new(), Bars::new());
        for line in lines {
            self.gutter(Some(line.number), width, chars.vbar);
            push_expanded(self.out, line.text);
            on_line.clear();
            on_line.extend(spans.iter().filter(|s| line.touches(s)));
            if !on_line.is_empty() {
                self.highlights(line, width, &on_line, &mut bars)?;
            }
        }
        push_repeated(self.out, ' ', width + 2);
        self.out.push(chars.lbot);
        (0..4).for_each(|_| self.out.push(chars.hbar));
        self.out.push('\n');
        Some(())
    }

    /// ` {number:>width$} {bar} `, the number blank when `None`.
    fn gutter(&mut self, number: Option<usize>, width: usize, bar: char) {
        let mut buffer = itoa::Buffer::new();
        let digits = number.map_or("", |n| buffer.format(n));
        self.out.push(' ');
        push_repeated(self.out, ' ', width.saturating_sub(digits.len()));
        self.out.push_str(digits);
        self.out.push(' ');
        self.out.push(bar);
        self.out.push(' ');
    }

    /// The underlines of the spans on `line`, then each label on a line of its own,
    /// rightmost first (miette's `render_single_line_highlights`).
    fn highlights(
        &mut self,
        line: &Line,
        width: usize,
        spans: &[&Span],
        bars: &mut Bars,
    ) -> Option<()> {
        let chars = self.chars;
        self.gutter(None, width, chars.vbar_break);
        let mut highest = 0;
        bars.clear();
        for span in spans {
            let start = visual_offset(line, span.offset, true)?.max(highest);
            let end = match span.len {
                0 => start + 1,
                len => visual_offset(line, span.offset + len, false)?.max(start + 1),
            };
            let bar = (start + end) / 2;
            push_repeated(self.out, ' ', start.saturating_sub(highest));
            push_repeated(self.out, chars.underline, bar - start);
            self.out.push(match (span.len, span.label) {
                (0, _) => chars.uarrow,
                (_, Some(_)) => chars.underbar,
                (_, None) => chars.underline,
            });
            push_repeated(self.out, chars.underline, end - bar - 1);
            highest = highest.max(end);
            bars.push(bar);
        }
        self.out.push('\n');
        for (i, span) in spans.iter().enumerate().rev() {
            let Some(label) = span.label else { continue };
            if label.contains('\n') {
                return None;
            }
            self.gutter(None, width, chars.vbar_break);
            let mut column = 1;
            for (other, &bar) in spans.iter().zip(bars.iter()) {
                push_repeated(self.out, ' ', (bar + 1).saturating_sub(column));
                column = column.max(bar + 1);
                if *other != spans[i] {
                    self.out.push(chars.vbar);
                    column += 1;
                } else {
                    self.out.push(chars.lbot);
                    push_repeated(self.out, chars.hbar, 2);
                    self.out.push(' ');
                    self.out.push_str(label);
                    self.out.push('\n');
                    break;
                }
            }
        }
        Some(())
    }
}

/// `text` with `first` before its first line and `rest` before the others, a line
/// with only blanks getting the indent without its trailing blanks (miette's `wrap`
/// with wrapping off), then a line break.
fn indented(out: &mut String, text: &str, first: &str, rest: &str) {
    for (i, line) in text.split_terminator('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let indent = if i == 0 { first } else { rest };
        out.push_str(match line.trim().is_empty() {
            true => indent.trim_end(),
            false => indent,
        });
        out.push_str(line);
    }
    if text.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
}

fn span_of(label: &LabeledSpan) -> Span<'_> {
    Span {
        offset: label.inner().offset(),
        len: label.inner().len(),
        label: label.label(),
    }
}

/// The first line (0-based) and the number of lines of the context miette reads for `span`.
fn lines_around(source: &Excerpt, span: &Span) -> Option<(usize, usize)> {
    let contents = source.read(span.offset, span.len, CONTEXT_LINES, CONTEXT_LINES)?;
    Some((contents.line, contents.line_count))
}

/// The lines of a context's text, numbered from `line` + 1 (miette's `get_lines`). A
/// carriage return (which miette treats apart) is left to miette.
fn lines_of(data: &str, line: usize, offset: usize) -> Option<Vec<Line<'_>>> {
    if data.contains('\r') {
        return None;
    }
    let mut lines = Vec::new();
    let mut from = 0;
    for (number, piece) in (line + 1..).zip(data.split_inclusive('\n')) {
        lines.push(Line {
            number,
            offset: offset + from,
            length: piece.len(),
            text: piece.strip_suffix('\n').unwrap_or(piece),
        });
        from += piece.len();
    }
    // miette draws no lines for empty contents; leave that case to it.
    (!lines.is_empty()).then_some(lines)
}

/// The visual width of each character of `text`: a tab reaches the next multiple of the
/// tab width, a character its Unicode width, and an ANSI escape sequence nothing.
fn visual_widths(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut column = 0;
    let mut escaped = false;
    text.chars().map(move |c| {
        let width = match (escaped, c) {
            (false, '\t') => TAB_WIDTH - column % TAB_WIDTH,
            (false, '\x1b') => {
                escaped = true;
                0
            }
            (false, c) => c.width().unwrap_or(0),
            (true, 'm') => {
                escaped = false;
                0
            }
            (true, _) => 0,
        };
        column += width;
        width
    })
}

/// The visual column of byte `offset` on `line`: inside a character, its first column
/// when `start`, else its last; past the text, one column past its end.
fn visual_offset(line: &Line, offset: usize, start: bool) -> Option<usize> {
    if !(line.offset..=line.end()).contains(&offset) {
        return None;
    }
    let mut index = offset - line.offset;
    while index <= line.text.len() && !line.text.is_char_boundary(index) {
        match start {
            true => index -= 1,
            false => index += 1,
        }
    }
    let before = &line.text[..index.min(line.text.len())];
    let width: usize = match one_column_each(before) {
        true => before.len(),
        false => visual_widths(before).sum(),
    };
    Some(if index > line.text.len() {
        width + 1
    } else {
        width
    })
}

/// A line's text with its tabs expanded, then a line break.
fn push_expanded(out: &mut String, text: &str) {
    if one_column_each(text) {
        out.push_str(text);
        out.push('\n');
        return;
    }
    for (c, width) in text.chars().zip(visual_widths(text)) {
        match c {
            '\t' => push_repeated(out, ' ', width),
            c => out.push(c),
        }
    }
    out.push('\n');
}

/// Printable ASCII only: one column a byte, nothing to expand (a tab is not).
fn one_column_each(text: &str) -> bool {
    is_all(text, |b| matches!(b, b' '..=b'~'))
}

/// The text of 0-based `line` of `file`, without its line ending, when an excerpt would show
/// it unchanged: printable ASCII (a tab is not: it is expanded), short enough to be shown
/// whole.
fn plain_line(file: &SourceFile, line: usize) -> Option<Range<usize>> {
    let (start, end) = line_content(file, line);
    (end - start <= MAX_LINE_BYTES && one_column_each(&file.text[start..end])).then_some(start..end)
}

fn is_empty_line(file: &SourceFile, line: usize) -> bool {
    let (start, end) = line_content(file, line);
    start == end
}

/// The number of decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

fn push_repeated(out: &mut String, c: char, n: usize) {
    const SPACES: &str = "                                ";
    if c == ' ' && n <= SPACES.len() {
        return out.push_str(&SPACES[..n]);
    }
    // Encoded once: a box-drawing character is three bytes.
    let mut buffer = [0; 4];
    let encoded = c.encode_utf8(&mut buffer);
    out.reserve(n * encoded.len());
    (0..n).for_each(|_| out.push_str(encoded));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::text::{render_with, Drawing, Drawn, Style};
    use crate::config::{Config, Overrides, Resolver, Settings};
    use crate::fix::{Edit, Fix};
    use crate::rule::{Diagnostic, Label, Severity};
    use crate::source::SourceFile;

    const STYLE: Style = Style {
        color: false,
        width: 100,
    };

    /// The drawing of `diagnostics` as `text` makes it and as miette makes it, and how many
    /// were drawn each straight way. The straight drawing from excerpts alone is checked
    /// against miette's too: it draws what the plain one leaves.
    fn both(file: &SourceFile, diagnostics: &[Diagnostic]) -> (String, String, Drawn) {
        let [mut straight, mut excerpts, mut miette] = [(); 3].map(|_| String::new());
        let drawn = render_with(file, diagnostics, STYLE, Drawing::Plain, &mut straight);
        render_with(file, diagnostics, STYLE, Drawing::Excerpt, &mut excerpts);
        render_with(file, diagnostics, STYLE, Drawing::Miette, &mut miette);
        assert_eq!(excerpts, miette, "drawn from excerpts");
        (straight, miette, drawn)
    }

    fn add(total: &mut Drawn, n: Drawn) {
        total.plain += n.plain;
        total.excerpt += n.excerpt;
    }

    /// A small deterministic generator (xorshift), so a failure can be replayed.
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    fn diagnostic(span: std::ops::Range<usize>, labels: Vec<Label>) -> Diagnostic {
        Diagnostic {
            rule: "consecutive-run",
            severity: Severity::Info,
            span,
            message: "a message".into(),
            help: None,
            labels: labels.into_iter().collect(),
            anchors: Default::default(),
            fix: None,
        }
    }

    #[test]
    fn the_common_case_is_drawn_as_miette_draws_it() {
        let text = "FROM alpine:3.20\nRUN echo line0\nRUN echo line1\nRUN echo line2\n";
        let file = SourceFile::new("Dockerfile", text.to_string());
        let second = text.find("RUN echo line1").unwrap();
        let first = text.find("RUN echo line0").unwrap();
        let mut d = diagnostic(
            second..second + 14,
            vec![Label {
                span: first..first + 3,
                message: "previous RUN".into(),
            }],
        );
        d.help = Some("chain the commands\nsecond line".into());
        d.fix = Some(Fix::safe(
            "Merge",
            vec![Edit {
                span: 0..0,
                content: Default::default(),
            }],
        ));
        let (straight, miette, drawn) = both(&file, &[d]);
        assert_eq!(drawn.plain, 1);
        assert_eq!(straight, miette);
        assert!(straight.contains(" 2 │ RUN echo line0\n   · ─┬─\n   ·  ╰── previous RUN\n"));
    }

    #[test]
    fn a_message_or_help_drawn_again_is_redrawn_when_anything_it_shows_changes() {
        // Findings in a row that say the same, then differ only in severity, message, help or
        // fix: each drawing kept for the next must be the one it shows.
        let text = "FROM alpine:3.20\nRUN echo line0\nRUN echo line1\nRUN echo line2\n";
        let file = SourceFile::new("Dockerfile", text.to_string());
        let at = text.find("RUN echo line1").unwrap();
        let make =
            |severity, message: &'static str, help: &'static str, title: Option<&'static str>| {
                let mut d = diagnostic(at..at + 14, Vec::new());
                (d.severity, d.message, d.help) = (severity, message.into(), Some(help.into()));
                d.fix = title.map(|title| Fix::safe(title, Vec::new()));
                d
            };
        let diagnostics = [
            make(Severity::Info, "same", "help", Some("Merge")),
            make(Severity::Info, "same", "help", Some("Merge")),
            make(Severity::Warning, "same", "help", Some("Merge")),
            make(Severity::Warning, "other", "help", Some("Merge")),
            make(Severity::Warning, "other", "help", Some("Join")),
            make(Severity::Warning, "other", "help", None),
            make(Severity::Warning, "other", "more help", None),
            make(Severity::Info, "same", "help", Some("Merge")),
        ];
        let (straight, miette, drawn) = both(&file, &diagnostics);
        assert_eq!(drawn.plain, diagnostics.len());
        assert_eq!(straight, miette);
    }

    #[test]
    fn a_span_over_several_lines_is_left_to_miette() {
        let text = "FROM a\nRUN echo \\\n  b\n";
        let file = SourceFile::new("Dockerfile", text.to_string());
        let d = diagnostic(7..text.len() - 1, Vec::new());
        let (straight, miette, drawn) = both(&file, &[d]);
        assert_eq!((drawn.plain, drawn.excerpt), (0, 0));
        assert_eq!(straight, miette);
    }

    /// Random files of up to `lines` lines of `pieces` (some ending in CRLF, with or without a
    /// final line break), with a random span and fewer than `labels_below` random labels:
    /// `text` draws every one as miette does. Returns the number of cases and how many were
    /// drawn each straight way.
    fn random_shapes(
        pieces: &[&str],
        labels: &[&'static str],
        (lines, labels_below): (usize, usize),
        seed: u64,
    ) -> (usize, Drawn) {
        let mut random = Random(seed);
        let (mut cases, mut drawn) = (0, Drawn::default());
        for _ in 0..4000 {
            let mut text = String::new();
            for line in 0..1 + random.below(lines) {
                if line > 0 {
                    text.push_str(if random.below(5) == 0 { "\r\n" } else { "\n" });
                }
                for _ in 0..random.below(6) {
                    text.push_str(random.pick(pieces));
                }
            }
            if random.below(2) == 0 {
                text.push('\n');
            }
            let file = SourceFile::new("Dockerfile", text.clone());
            let span = |random: &mut Random| {
                let start = random.below(text.len() + 1);
                let end = (start + random.below(12)).min(text.len());
                start..end
            };
            let primary = span(&mut random);
            let count = random.below(labels_below);
            let others: Vec<_> = (0..count).map(|_| span(&mut random)).collect();
            let labels = others
                .into_iter()
                .map(|span| Label {
                    span,
                    message: random.pick(labels).into(),
                })
                .collect();
            let d = diagnostic(primary, labels);
            let (straight, miette, n) = both(&file, std::slice::from_ref(&d));
            assert_eq!(straight, miette, "{text:?} {d:?}");
            cases += 1;
            add(&mut drawn, n);
        }
        (cases, drawn)
    }

    /// Tabs, wide and escaped characters, blank lines: most are drawn straight.
    #[test]
    fn random_shapes_are_drawn_as_miette_draws_them() {
        let pieces = [
            "RUN", " ", "echo", "\t", "日本", "é", "\u{200b}", "\x1b[2J", "a", "&&", "x",
        ];
        let labels = ["previous RUN", "", "also here", "two\nlines", "日本語"];
        let (cases, drawn) = random_shapes(&pieces, &labels, (7, 4), 0x9e37_79b9_7f4a_7c15);
        let straight = drawn.plain + drawn.excerpt;
        assert!(
            straight * 2 > cases,
            "only {straight} of {cases} drawn straight"
        );
    }

    /// Plain text over more lines, with more labels (on one line, on lines next to each
    /// other, far apart, at one offset) and long lines an excerpt cuts: most are drawn from
    /// the file itself.
    #[test]
    fn random_plain_shapes_are_drawn_from_the_file_as_miette_draws_them() {
        let long = "y".repeat(150);
        let pieces = ["RUN", " ", "echo", "a", "&&", "x", "  ", "\\", &long];
        let labels = ["previous RUN", "", "also here"];
        let (cases, drawn) = random_shapes(&pieces, &labels, (14, 6), 0x2545_f491_4f6c_dd1d);
        assert!(
            drawn.plain * 3 > cases,
            "only {} of {cases} drawn from the file",
            drawn.plain
        );
    }

    /// Every finding of every corpus file, with every rule on, is drawn as miette draws it.
    #[test]
    fn corpus_findings_are_drawn_as_miette_draws_them() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
            let hint = format!("corpus not found at {}", corpus.display());
            if std::env::var("DOCKLINT_REQUIRE_CORPUS").is_ok_and(|v| v == "1") {
                panic!("{hint} (DOCKLINT_REQUIRE_CORPUS=1 requires it)");
            }
            eprintln!("NOTE: skipping the corpus comparison: {hint}");
            return;
        };
        let all = Config::parse("select = [\"all\"]", Path::new("lint.toml")).unwrap();
        let settings: Settings = Resolver::new(Some(all), true, Overrides::default())
            .settings_for(Path::new("Dockerfile"))
            .unwrap();
        let (mut findings, mut drawn) = (0, Drawn::default());
        for row in manifest.lines().skip(1) {
            let name = row.split('\t').next().unwrap_or_default();
            let Ok(bytes) = std::fs::read(corpus.join(name)) else {
                continue;
            };
            let file = SourceFile::from_bytes(Path::new(name), bytes);
            let diagnostics = crate::lint(&file, &settings);
            let (straight, miette, n) = both(&file, &diagnostics);
            assert_eq!(straight, miette, "{name}");
            findings += diagnostics.len();
            add(&mut drawn, n);
        }
        let straight = drawn.plain + drawn.excerpt;
        assert!(
            straight * 2 > findings,
            "only {straight} of {findings} drawn straight"
        );
        eprintln!(
            "{} of {findings} corpus findings drawn from the file, {} from excerpts, all as \
             miette draws them",
            drawn.plain, drawn.excerpt
        );
    }
}
