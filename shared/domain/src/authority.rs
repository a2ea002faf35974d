//! Who may write which op (DESIGN §3 "Authority"): a pure rule over the entry's origin, its seq
//! and the op. Every node applies it to every entry, its own and relayed ones alike, before any
//! projection changes.
//!
//! Must not touch keys or signatures (the ledger checks those) or storage.

use crate::division::DivisionCode;
use crate::ops::{Enrolment, Op};

/// Why an origin may not write an op.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    #[error("{origin} 只能修改本级清单，不能修改 {list} 的清单 / a node edits only its own list")]
    NotOwnList { origin: DivisionCode, list: DivisionCode },
    #[error("{origin} 不是 {division} 的上级，不能为其登记或撤销 / only the parent enrols or revokes a node")]
    NotParent { origin: DivisionCode, division: DivisionCode },
    #[error("{origin} 不是 {division} 的上级，不能处置其分叉 / only an ancestor resolves a fork")]
    NotAncestor { origin: DivisionCode, division: DivisionCode },
    #[error("登记的层级 {tier:?} 与区划代码 {division} 不符 / enrolment tier does not match the division code")]
    TierMismatch { division: DivisionCode, tier: crate::Tier },
    #[error("登记的公钥格式错误（应为 64 位小写十六进制）/ malformed public key")]
    MalformedKey,
    #[error("密钥轮换必须从后续序号生效（条目 {seq}，生效 {valid_from}）/ a rotation takes effect after its own entry")]
    RotationNotAhead { seq: u64, valid_from: u64 },
    #[error("生效序号必须至少为 1 / valid_from must be at least 1")]
    ValidFromZero,
    #[error(
        "{origin}（{tier}级）不是 {affected} 级的上级，不能向其公布目录 / only an ancestor publishes catalogue changes for lower tiers"
    )]
    NotAboveTier { origin: DivisionCode, tier: crate::Tier, affected: crate::Tier },
    #[error("只有根节点 {root} 能发布节假日安排，{origin} 不能 / only the root publishes the calendar")]
    NotRoot { origin: DivisionCode, root: DivisionCode },
    #[error("{origin} 只能向本辖区内的下级赋权，{grantee} 不在其辖区内 / a grant goes to a node below the grantor")]
    GrantNotBelow { origin: DivisionCode, grantee: DivisionCode },
}

/// Checks that `origin` may write `op` in its entry number `seq`.
pub fn authorise(origin: &DivisionCode, seq: u64, op: &Op) -> Result<(), AuthorityError> {
    match op {
        Op::ItemAdd { .. } | Op::ItemUpdate { .. } | Op::ItemCancel { .. } => {
            let list = op.target_list(origin).unwrap_or(origin);
            if list != origin {
                return Err(AuthorityError::NotOwnList { origin: origin.clone(), list: list.clone() });
            }
            Ok(())
        }
        Op::Enroll { enrolment } => {
            check_enrolment(enrolment)?;
            if &enrolment.division == origin {
                // Key rotation: the origin names its next key, signed by its current one.
                if enrolment.valid_from <= seq {
                    return Err(AuthorityError::RotationNotAhead { seq, valid_from: enrolment.valid_from });
                }
                return Ok(());
            }
            parent_of(origin, &enrolment.division)
        }
        Op::Revoke { division, .. } => parent_of(origin, division),
        Op::Publish { publication } => {
            let tier = origin.tier();
            match publication.tiers.iter().find(|t| **t <= tier) {
                Some(affected) => {
                    Err(AuthorityError::NotAboveTier { origin: origin.clone(), tier, affected: *affected })
                }
                None => Ok(()),
            }
        }
        // Only the root publishes the calendar: the store checks the origin against the trust
        // root it holds (this rule does not know the root).
        Op::CalendarYear { .. } => Ok(()),
        // About the origin's own tasks, policy and filings; the store checks the publication
        // applies to the origin.
        Op::ReconAdopt { .. }
        | Op::ReconDeviate { .. }
        | Op::ReconNotApplicable { .. }
        | Op::Policy { .. }
        | Op::RequestFile { .. }
        | Op::RequestSubmit { .. }
        | Op::RequestStep { .. } => Ok(()),
        Op::GrantIssue { batch } => {
            if &batch.grantee == origin || !batch.grantee.is_within(origin) {
                return Err(AuthorityError::GrantNotBelow { origin: origin.clone(), grantee: batch.grantee.clone() });
            }
            Ok(())
        }
        // Acceptance is the grantee's, revocation, extension and seals the grantor's, activation
        // the holder's: the store checks each against the batch or seal it names.
        Op::GrantAccept { .. }
        | Op::GrantRevoke { .. }
        | Op::GrantExtend { .. }
        | Op::SealCarve { .. }
        | Op::SealDeliver { .. }
        | Op::SealActivate { .. }
        | Op::SealRecall { .. }
        | Op::SealArchive { .. }
        | Op::SealReplace { .. } => Ok(()),
        Op::Resolve { enrolment, .. } => {
            check_enrolment(enrolment)?;
            if &enrolment.division == origin || !enrolment.division.is_within(origin) {
                return Err(AuthorityError::NotAncestor {
                    origin: origin.clone(),
                    division: enrolment.division.clone(),
                });
            }
            Ok(())
        }
    }
}

fn check_enrolment(e: &Enrolment) -> Result<(), AuthorityError> {
    if e.division.tier() != e.tier {
        return Err(AuthorityError::TierMismatch { division: e.division.clone(), tier: e.tier });
    }
    if !e.key_is_well_formed() {
        return Err(AuthorityError::MalformedKey);
    }
    if e.valid_from == 0 {
        return Err(AuthorityError::ValidFromZero);
    }
    Ok(())
}

fn parent_of(origin: &DivisionCode, division: &DivisionCode) -> Result<(), AuthorityError> {
    if division.parent().as_ref() == Some(origin) {
        Ok(())
    } else {
        Err(AuthorityError::NotParent { origin: origin.clone(), division: division.clone() })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Tier;
    use crate::item::tests::food_licence;

    fn d(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    fn enrol(division: &str, valid_from: u64) -> Enrolment {
        let division = d(division);
        Enrolment { tier: division.tier(), division, name: "节点".into(), key: "ab".repeat(32), valid_from }
    }

    #[test]
    fn a_node_edits_only_its_own_list() {
        let township = d("510521100");
        assert!(authorise(&township, 1, &Op::add(food_licence())).is_ok());
        let on_county = Op::ItemAdd { item: food_licence(), list: Some(d("510521")) };
        assert_eq!(
            authorise(&township, 1, &on_county),
            Err(AuthorityError::NotOwnList { origin: township.clone(), list: d("510521") })
        );
        let on_self =
            Op::ItemCancel { code: "X".into(), reason: "r".into(), list: Some(township.clone()), delegated: false };
        assert!(authorise(&township, 1, &on_self).is_ok());
    }

    #[test]
    fn only_the_parent_enrols_and_revokes() {
        let city = d("510500");
        assert!(authorise(&city, 3, &Op::Enroll { enrolment: enrol("510521", 1) }).is_ok());
        assert!(authorise(&d("510000"), 3, &Op::Enroll { enrolment: enrol("510521", 1) }).is_err());
        assert!(authorise(&d("510521"), 3, &Op::Enroll { enrolment: enrol("510500", 1) }).is_err());
        assert!(authorise(&d("510521"), 3, &Op::Enroll { enrolment: enrol("510000", 1) }).is_err());
        let revoke = Op::Revoke { division: d("510521"), after: 4, reason: "密钥泄露".into() };
        assert!(authorise(&city, 9, &revoke).is_ok());
        assert!(matches!(authorise(&d("510000"), 9, &revoke), Err(AuthorityError::NotParent { .. })));
    }

    #[test]
    fn rotation_takes_effect_after_its_own_entry() {
        let county = d("510521");
        assert!(authorise(&county, 7, &Op::Enroll { enrolment: enrol("510521", 8) }).is_ok());
        assert_eq!(
            authorise(&county, 7, &Op::Enroll { enrolment: enrol("510521", 7) }),
            Err(AuthorityError::RotationNotAhead { seq: 7, valid_from: 7 })
        );
    }

    #[test]
    fn enrolments_must_be_well_formed() {
        let city = d("510500");
        let mut e = enrol("510521", 1);
        e.tier = Tier::Township;
        assert!(matches!(authorise(&city, 1, &Op::Enroll { enrolment: e }), Err(AuthorityError::TierMismatch { .. })));
        let mut e = enrol("510521", 1);
        e.key = "XYZ".into();
        assert_eq!(authorise(&city, 1, &Op::Enroll { enrolment: e }), Err(AuthorityError::MalformedKey));
        assert_eq!(
            authorise(&city, 1, &Op::Enroll { enrolment: enrol("510521", 0) }),
            Err(AuthorityError::ValidFromZero)
        );
    }

    #[test]
    fn only_an_ancestor_resolves_a_fork() {
        let resolve = |div: &str| Op::Resolve { enrolment: enrol(div, 5), fork_seq: 5, reason: "重新登记".into() };
        assert!(authorise(&d("510000"), 1, &resolve("510521100")).is_ok());
        assert!(authorise(&d("510521"), 1, &resolve("510521100")).is_ok());
        assert!(authorise(&d("510521"), 1, &resolve("510521")).is_err());
        assert!(authorise(&d("510521100"), 1, &resolve("510521")).is_err());
    }

    fn publication(tiers: Vec<Tier>) -> Op {
        Op::Publish {
            publication: crate::catalogue::Publication {
                doc_no: "川委办〔2015〕17号".into(),
                title: "省市县三级权责清单".into(),
                published: "2025-09-28".parse().unwrap(),
                effective: "2025-09-28".parse().unwrap(),
                tiers,
                window: Default::default(),
                changes: vec![],
            },
        }
    }

    #[test]
    fn only_an_ancestor_tier_publishes_a_catalogue() {
        let (province, city, county) = (d("510000"), d("510500"), d("510521"));
        assert!(authorise(&province, 1, &publication(vec![Tier::City, Tier::County, Tier::Township])).is_ok());
        assert!(authorise(&city, 1, &publication(vec![Tier::County, Tier::Township])).is_ok());
        assert_eq!(
            authorise(&county, 1, &publication(vec![Tier::Province])),
            Err(AuthorityError::NotAboveTier { origin: county.clone(), tier: Tier::County, affected: Tier::Province })
        );
        assert!(matches!(
            authorise(&city, 1, &publication(vec![Tier::City, Tier::County])),
            Err(AuthorityError::NotAboveTier { affected: Tier::City, .. })
        ));
        assert!(authorise(&d("510521100"), 1, &publication(vec![Tier::Township])).is_err());
    }

    proptest! {
        /// An enrolment is authorised exactly when the origin is the enrolled division's parent,
        /// or the division itself with a later valid_from.
        #[test]
        fn enrol_authority_follows_the_tree(a in 0usize..6, b in 0usize..6, seq in 1u64..10, from in 1u64..12) {
            let codes = ["510000", "510500", "510521", "510521100", "510600", "510522"];
            let (origin, division) = (d(codes[a]), d(codes[b]));
            let ok = authorise(&origin, seq, &Op::Enroll { enrolment: enrol(codes[b], from) }).is_ok();
            let expected = division.parent().as_ref() == Some(&origin) || (origin == division && from > seq);
            prop_assert_eq!(ok, expected);
        }
    }
}
