//! `quanze user add|list|disable|token|password`: the node's accounts, through the running
//! node's API with the operator token (the CLI never writes the database).
//!
//! Owns reading a password without putting it on the command line: `--password-file`, the
//! `QUANZE_PASSWORD` environment variable, or a prompt on a terminal with echo off (asked twice).
//! Roles are checked here with the same `Role::from_str` as the node, before a password is asked
//! for. Must not hash passwords or touch the store itself.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use quanze_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use super::client;
use crate::cli::NodeArgs;

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "QUANZE_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Roles (repeat --role): clerk 部门经办人, establishment 编办审核人,
    /// legal 法制审核人, government 政府审定人, publisher 信息公开专员, auditor 审计监督人员,
    /// operator 节点运维人员. A clerk needs --department.
    Add {
        /// Login name: 2–64 letters, digits or . _ - @ (stored in lower case).
        #[arg(long)]
        login: String,
        /// Display name (姓名或称谓).
        #[arg(long)]
        name: String,
        /// A role, by key or Chinese label; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The department (required for a clerk), e.g. 泸县市场监督管理局.
        #[arg(long)]
        department: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// List the accounts (no secrets).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Disable an account: no more logins; its sessions and API tokens stop working at once.
    Disable {
        login: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Issue an API token for an account (printed once, alone on standard output).
    Token {
        login: String,
        /// What the token is for, e.g. the script's name.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Set a new password (clears a lock-out, ends the account's sessions).
    Password {
        login: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// Where the password comes from (never a command-line value: it would show in `ps`).
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Read the password from this file (its first line). Else QUANZE_PASSWORD, else a prompt.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

impl PasswordArgs {
    /// The password from the file, the environment or the terminal.
    pub fn read(&self) -> anyhow::Result<String> {
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("无法读取密码文件 {} / cannot read the password file", path.display()))?;
            return Ok(text.lines().next().unwrap_or("").to_string());
        }
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            return Ok(p);
        }
        prompt_twice()
    }
}

/// Asks on the terminal, echo off, twice.
fn prompt_twice() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "需要密码：请用 --password-file 或环境变量 {PASSWORD_ENV}，或在终端中运行 / a password is needed: use \
             --password-file, {PASSWORD_ENV}, or run on a terminal"
        );
    }
    let first = prompt("密码 / password: ")?;
    let second = prompt("再次输入 / again: ")?;
    if first != second {
        bail!("两次输入的密码不一致 / the passwords differ");
    }
    Ok(first)
}

fn stty(arg: &str) -> bool {
    Command::new("stty").arg(arg).stdin(Stdio::inherit()).status().is_ok_and(|s| s.success())
}

fn prompt(text: &str) -> anyhow::Result<String> {
    eprint!("{text}");
    std::io::stderr().flush()?;
    if !stty("-echo") {
        bail!("无法关闭终端回显 / cannot turn terminal echo off: use --password-file or {PASSWORD_ENV}");
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    stty("echo");
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Roles as the node will read them; the first unknown one is an error naming it.
fn check_roles(roles: &[String]) -> anyhow::Result<()> {
    for r in roles {
        r.parse::<Role>().map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}

fn roles_text(account: &Value) -> String {
    let roles = account["roles"].as_array().cloned().unwrap_or_default();
    roles
        .iter()
        .filter_map(|r| r.as_str())
        .map(|k| k.parse::<Role>().map_or_else(|_| k.to_string(), |r| format!("{k} {}", r.label())))
        .collect::<Vec<_>>()
        .join("、")
}

fn account_line(a: &Value) -> String {
    let text = |k: &str| a[k].as_str().unwrap_or("").to_string();
    let mut state =
        if a["disabled"].as_bool() == Some(true) { "已停用 / disabled".to_string() } else { String::new() };
    if let Some(until) = a["locked_until"].as_str() {
        state = format!("{state} 锁定至 / locked until {until}").trim().to_string();
    }
    format!(
        "{} {} {} [{}] {} {}",
        text("account"),
        text("login"),
        text("name"),
        roles_text(a),
        a["department"].as_str().unwrap_or("-"),
        state
    )
    .trim_end()
    .to_string()
}

fn path_login(login: &str) -> String {
    encode(login.trim())
}

/// Percent-encodes a path segment (a login is plain, but the operator may mistype).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { login, name, roles, department, password, node } => {
            check_roles(&roles)?;
            let body = json!({
                "login": login, "name": name, "roles": roles, "department": department, "password": password.read()?,
            });
            let res = client(&node)?
                .send_json(Method::POST, "/api/v1/users", &body)
                .await
                .context("无法创建账户 / cannot create the account")?;
            println!("已创建账户 / account created: {}", account_line(&res));
        }
        UserCommand::List { json, node } => {
            let res = client(&node)?.get_json("/api/v1/users").await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
            } else {
                let accounts = res["accounts"].as_array().cloned().unwrap_or_default();
                if accounts.is_empty() {
                    println!("（尚无账户 / no accounts）");
                }
                for a in &accounts {
                    println!("{}", account_line(a));
                }
            }
        }
        UserCommand::Disable { login, node } => {
            let path = format!("/api/v1/users/{}/disable", path_login(&login));
            let res = client(&node)?
                .send_json(Method::POST, &path, &json!({}))
                .await
                .context("无法停用账户 / cannot disable the account")?;
            println!("已停用 / disabled: {}", account_line(&res));
        }
        UserCommand::Token { login, label, node } => {
            let path = format!("/api/v1/users/{}/tokens", path_login(&login));
            let res = client(&node)?
                .send_json(Method::POST, &path, &json!({ "label": label }))
                .await
                .context("无法生成 API 令牌 / cannot issue the token")?;
            eprintln!(
                "已为 {} 生成 API 令牌（{}），只显示这一次 / API token for {} ({}), shown once:",
                res["login"].as_str().unwrap_or(""),
                res["label"].as_str().unwrap_or(""),
                res["login"].as_str().unwrap_or(""),
                res["label"].as_str().unwrap_or("")
            );
            println!("{}", res["token"].as_str().unwrap_or(""));
        }
        UserCommand::Password { login, password, node } => {
            let path = format!("/api/v1/users/{}/password", path_login(&login));
            let res = client(&node)?
                .send_json(Method::POST, &path, &json!({ "password": password.read()? }))
                .await
                .context("无法设置密码 / cannot set the password")?;
            println!("已设置新密码 / password set: {}", account_line(&res));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_role_is_named_before_any_password_is_asked() {
        assert!(check_roles(&["clerk".into(), "法制审核人".into()]).is_ok());
        let err = check_roles(&["clerk".into(), "mayor".into()]).unwrap_err().to_string();
        assert!(err.contains("mayor"), "{err}");
    }

    #[test]
    fn a_login_is_encoded_for_the_path() {
        assert_eq!(encode("zhang.wei@lx"), "zhang.wei@lx");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }
}
