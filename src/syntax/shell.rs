//! Shell layer placeholder with the agreed API; replaced by the brush-parser adapter.

use crate::source::Span;
use crate::syntax::MappedText;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub raw: String,
    pub value: String,
    pub span: Span,
    pub literal: bool,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub env: Vec<Word>,
    pub program: Word,
    pub args: Vec<Word>,
    pub span: Span,
    pub stdin_heredocs: Vec<MappedText>,
}

#[derive(Debug, Clone, Default)]
pub struct Script {
    pub commands: Vec<Command>,
    pub fallback: Option<String>,
}

pub fn parse(body: &MappedText) -> Script {
    let text = body.as_str();
    let mut commands = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut flush = |words: &mut Vec<Word>, commands: &mut Vec<Command>| {
        if let Some(first) = words.first().cloned() {
            let span = first.span.start..words.last().map_or(first.span.end, |w| w.span.end);
            let args = words.drain(1..).collect();
            commands.push(Command {
                env: vec![],
                program: first,
                args,
                span,
                stdin_heredocs: vec![],
            });
        }
        words.clear();
    };
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let sep = c.is_whitespace() || c == ';' || c == '&' || c == '|';
        if sep {
            if let Some(s) = start.take() {
                let raw = &text[s..i];
                words.push(Word {
                    raw: raw.into(),
                    value: raw.trim_matches(['"', '\'']).into(),
                    span: body.span_to_file(s..i),
                    literal: !raw.contains('$'),
                });
            }
            if c == ';' || c == '&' || c == '|' || c == '\n' {
                flush(&mut words, &mut commands);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    flush(&mut words, &mut commands);
    Script {
        commands,
        fallback: None,
    }
}

pub fn parse_exec(argv: &[MappedText]) -> Script {
    let words: Vec<Word> = argv
        .iter()
        .map(|a| Word {
            raw: a.as_str().into(),
            value: a.as_str().into(),
            span: a.span_to_file(0..a.len()),
            literal: true,
        })
        .collect();
    let Some(program) = words.first().cloned() else {
        return Script::default();
    };
    let span = program.span.start..words.last().map_or(program.span.end, |w| w.span.end);
    Script {
        commands: vec![Command {
            env: vec![],
            program,
            args: words[1..].to_vec(),
            span,
            stdin_heredocs: vec![],
        }],
        fallback: None,
    }
}
