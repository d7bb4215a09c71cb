//! `--statistics`: how often each rule was reported, and how many of those can be fixed.

use serde::Serialize;

use super::summary::{RuleCount, Totals};
use crate::rule::Severity;

/// One row of the statistics (and one element of their JSON array).
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    pub rule: &'a str,
    pub family: &'a str,
    /// The highest severity the rule was reported with.
    pub severity: Severity,
    pub count: usize,
    /// Fixable with `--fix`.
    pub fixable: usize,
    /// Fixable with `--fix --unsafe-fixes` only.
    pub unsafe_fixable: usize,
}

/// The rules reported, most frequent first.
pub fn rows(totals: &Totals) -> Vec<Row<'_>> {
    let mut rows: Vec<Row> = totals
        .rules
        .iter()
        .map(|(rule, c): (&&str, &RuleCount)| Row {
            rule,
            family: crate::lints::family_of(rule),
            severity: c.severity.unwrap_or(Severity::Info),
            count: c.count,
            fixable: c.safe_fixes,
            unsafe_fixable: c.unsafe_fixes,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(b.rule)));
    rows
}

pub fn render_text(totals: &Totals) -> String {
    let rows = rows(totals);
    let count_width = rows
        .iter()
        .map(|r| r.count.to_string().len())
        .max()
        .unwrap_or(1);
    let rule_width = rows.iter().map(|r| r.rule.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rows {
        let mut fixable = Vec::new();
        if r.fixable > 0 {
            fixable.push(format!("{} fixable", r.fixable));
        }
        if r.unsafe_fixable > 0 {
            fixable.push(format!("{} with --unsafe-fixes", r.unsafe_fixable));
        }
        let line = format!(
            "{:>count_width$}  {:<rule_width$}  {:<7}  {}",
            r.count,
            r.rule,
            r.severity.as_str(),
            fixable.join(", ")
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
