//! The audit's answer as people read it: the scope, the score of each node (share of checked
//! units with no finding), the count of each rule and the node × rule matrix, and the findings.
//!
//! Pure arithmetic over an `Evaluation`; rendering (JSON, CSV, HTML) is the node's business.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Evaluation, Finding, NodeFact, RuleId};
use crate::division::DivisionCode;
use crate::tier::Tier;

/// Which nodes an audit reports on: a division's subtree, or every node of one tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Division(DivisionCode),
    Tier(Tier),
}

impl Scope {
    /// `510000`, `510500`, `tier:county` (or `tier:县级`).
    pub fn parse(s: &str) -> Result<Scope, String> {
        let s = s.trim();
        if let Some(t) = s.strip_prefix("tier:") {
            return t.parse::<Tier>().map(Scope::Tier).map_err(|_| {
                format!("范围“{s}”的层级无效，应为 tier:province|city|county|township / unknown tier in scope")
            });
        }
        DivisionCode::parse(s).map(Scope::Division).map_err(|e| {
            format!("范围“{s}”不是区划代码或 tier:层级 / scope is neither a division code nor tier:…: {e}")
        })
    }

    pub fn contains(&self, node: &DivisionCode) -> bool {
        match self {
            Scope::Division(d) => node.is_within(d),
            Scope::Tier(t) => node.tier() == *t,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Division(d) => write!(f, "{d}"),
            Scope::Tier(t) => write!(f, "tier:{}", t.key()),
        }
    }
}

/// One node's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub division: DivisionCode,
    pub name: String,
    pub tier: Tier,
    /// Units checked: items held in force, items missing that should be held (A02, A09), tasks,
    /// filings, seals.
    pub units: u64,
    /// Units with at least one finding.
    pub failing: u64,
    /// Share of units passing, 0–1 (1 when nothing was checked).
    pub score: f64,
    /// Findings per rule id ("A01" …), every rule present.
    pub counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSummary {
    pub id: String,
    pub key: String,
    pub label: String,
    pub explain: String,
    pub findings: u64,
    /// Nodes with at least one finding of this rule.
    pub nodes: u64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub scope: String,
    pub as_of: NaiveDate,
    pub nodes: Vec<NodeSummary>,
    pub rules: Vec<RuleSummary>,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    /// Builds the report for the nodes of `scope` (in any order) from an evaluation already
    /// restricted to `as_of`.
    pub fn build(scope: &Scope, as_of: NaiveDate, nodes: &[NodeFact], evaluation: Evaluation) -> AuditReport {
        let mut units: BTreeMap<&DivisionCode, u64> = BTreeMap::new();
        for (node, n) in &evaluation.units.held {
            *units.entry(node).or_insert(0) += n;
        }
        for ((_, node), n) in &evaluation.units.checked {
            *units.entry(node).or_insert(0) += n;
        }
        let mut failing: BTreeMap<&DivisionCode, BTreeSet<(&str, bool)>> = BTreeMap::new();
        let mut missing: BTreeSet<(&DivisionCode, &str)> = BTreeSet::new();
        let mut counts: BTreeMap<(&DivisionCode, RuleId), u64> = BTreeMap::new();
        for f in &evaluation.findings {
            failing.entry(&f.node).or_default().insert((f.subject.as_str(), f.is_item));
            *counts.entry((&f.node, f.rule)).or_insert(0) += 1;
            if matches!(f.rule, RuleId::CatalogueMissing | RuleId::GrantItemMissing) {
                missing.insert((&f.node, f.subject.as_str()));
            }
        }
        for (node, _) in missing {
            *units.entry(node).or_insert(0) += 1;
        }
        let mut in_scope: Vec<&NodeFact> = nodes.iter().filter(|n| scope.contains(&n.division)).collect();
        in_scope.sort_by(|a, b| a.division.cmp(&b.division));
        let summaries = in_scope
            .iter()
            .map(|n| {
                let u = units.get(&n.division).copied().unwrap_or(0);
                let bad = failing.get(&n.division).map_or(0, |s| s.len() as u64).min(u);
                let score = if u == 0 { 1.0 } else { ((u - bad) as f64 / u as f64 * 10_000.0).round() / 10_000.0 };
                NodeSummary {
                    division: n.division.clone(),
                    name: n.name.clone(),
                    tier: n.division.tier(),
                    units: u,
                    failing: bad,
                    score,
                    counts: RuleId::ALL
                        .iter()
                        .map(|r| (r.id().to_string(), counts.get(&(&n.division, *r)).copied().unwrap_or(0)))
                        .collect(),
                }
            })
            .collect();
        let rules = RuleId::ALL
            .iter()
            .map(|r| {
                let of_rule = counts.iter().filter(|((_, rule), _)| rule == r);
                RuleSummary {
                    id: r.id().into(),
                    key: r.key().into(),
                    label: r.label().into(),
                    explain: r.explain().into(),
                    findings: of_rule.clone().map(|(_, n)| n).sum(),
                    nodes: of_rule.count() as u64,
                }
            })
            .collect();
        AuditReport { scope: scope.to_string(), as_of, nodes: summaries, rules, findings: evaluation.findings }
    }
}
