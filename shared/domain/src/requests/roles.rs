//! The people of a node and what each may do: roles (岗位) and the actor recorded in the log.
//!
//! Owns the role vocabulary and the actor of a workflow step (an opaque account id, display
//! name, role and, for a department clerk, the department). Accounts, passwords and sessions
//! are the node's business (`services/node`), never written to the log.

use serde::{Deserialize, Serialize};

/// A role held by an account of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 部门经办人: files adjustment requests for one department.
    Clerk,
    /// 编办审核: the establishment office reviews, and decides element adjustments.
    Establishment,
    /// 法制审核: the legal office checks legality.
    Legal,
    /// 政府审定: the government approves additions, cancellations and delegations.
    Government,
    /// 信息公开: keeps the public list in step with the decisions.
    Publisher,
    /// 审计监督 (incl. 监察、督查): reads everything, changes nothing.
    Auditor,
    /// 节点运维: runs the node (accounts, federation, imports).
    Operator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Clerk,
        Role::Establishment,
        Role::Legal,
        Role::Government,
        Role::Publisher,
        Role::Auditor,
        Role::Operator,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Establishment => "establishment",
            Role::Legal => "legal",
            Role::Government => "government",
            Role::Publisher => "publisher",
            Role::Auditor => "auditor",
            Role::Operator => "operator",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Clerk => "部门经办人",
            Role::Establishment => "编办审核人",
            Role::Legal => "法制审核人",
            Role::Government => "政府审定人",
            Role::Publisher => "信息公开专员",
            Role::Auditor => "审计监督人员",
            Role::Operator => "节点运维人员",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Role::ALL.into_iter().find(|r| r.key() == s || r.label() == s).ok_or_else(|| {
            let keys: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
            format!("未知的角色 “{s}”，应为 {} / unknown role", keys.join("、"))
        })
    }
}

/// Who took a workflow step, as written to the log: no personal data beyond the display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The node-local account id (opaque, e.g. `u7`): tells two people with one name apart.
    pub id: String,
    /// Display name (姓名或称谓).
    pub name: String,
    /// The role the step was taken in.
    pub role: Role,
    /// The department, for a department clerk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}
