//! Accounts and roles on a real node: accounts made with `quanze user` and the API, console
//! sign-in with a Secure HttpOnly SameSite=Strict cookie, the lock-out after five failures and
//! its end on a shifted clock, an auditor who may read but not write, API tokens, disabling, and
//! the routes that stay open without a login.

use quanze_tests::samples::{food_licence, food_penalty};
use quanze_tests::{Reply, TestNode, assert_bilingual, describe, quanze_command};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "泸县-correct-horse-2025";

/// A password file next to the node's data directory.
fn password_file(node: &TestNode, password: &str) -> String {
    let path = node.scratch(&format!("pw-{}", quanze_tests::sha256_hex(password.as_bytes())));
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path.to_str().unwrap().to_string()
}

/// `quanze user add …` with the password in a file; asserts success, returns stdout.
async fn cli_add(node: &TestNode, args: &[&str]) -> String {
    let file = password_file(node, PASSWORD);
    let mut all = vec!["user", "add"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--password-file", &file]);
    let out = node.cli(&all).await;
    assert!(out.status.success(), "user add {args:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `POST /api/v1/auth/login` without any credentials: the answer and its `Set-Cookie`.
async fn login(node: &TestNode, login: &str, password: &str) -> (Reply, Option<String>) {
    let rb = node.request(Method::POST, "/api/v1/auth/login").json(&json!({ "login": login, "password": password }));
    let res = rb.send().await.expect("login request");
    let cookie = res.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string());
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").map_or(String::new(), |v| v.to_str().unwrap().to_string());
    (Reply { status, content_type, text: res.text().await.unwrap() }, cookie)
}

/// Signs in (asserting 200) and returns the `name=value` part of the session cookie.
async fn session(node: &TestNode, login_name: &str) -> String {
    let (reply, cookie) = login(node, login_name, PASSWORD).await;
    reply.expect(200);
    cookie.expect("a session cookie").split(';').next().unwrap().to_string()
}

async fn with_cookie(node: &TestNode, method: Method, path: &str, cookie: &str) -> Reply {
    node.send(node.request(method, path).header("cookie", cookie)).await
}

async fn with_bearer(node: &TestNode, method: Method, path: &str, token: &str) -> Reply {
    node.send(node.request(method, path).bearer_auth(token)).await
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_five_failures_lock_until_the_clock_moves() {
    let mut node = TestNode::luxian().await;
    let out = cli_add(
        &node,
        &["--login", "Zhang.Wei", "--name", "张伟", "--role", "clerk", "--department", "泸县市场监督管理局"],
    )
    .await;
    assert!(out.contains("u1") && out.contains("zhang.wei") && out.contains("部门经办人"), "{out}");

    // Sign in: the caller, and a cookie the browser keeps to this site over HTTPS only.
    let (reply, cookie) = login(&node, "zhang.wei", PASSWORD).await;
    let me = reply.expect(200);
    assert_eq!(
        (me["account"].as_str(), me["login"].as_str(), me["name"].as_str()),
        (Some("u1"), Some("zhang.wei"), Some("张伟"))
    );
    assert_eq!((me["roles"].clone(), me["department"].clone()), (json!(["clerk"]), json!("泸县市场监督管理局")));
    let cookie = cookie.expect("Set-Cookie");
    let (pair, attributes) = cookie.split_once(';').unwrap();
    let value = pair.strip_prefix("quanze_session=").unwrap_or_else(|| panic!("{cookie}"));
    assert!(value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(attributes.split(';').any(|a| a.trim() == attribute), "{attribute} missing: {cookie}");
    }
    let me = with_cookie(&node, Method::GET, "/api/v1/auth/me", pair).await.expect(200);
    assert_eq!(me["login"], "zhang.wei");
    let items = with_cookie(&node, Method::GET, "/api/v1/items", pair).await.expect(200);
    assert_eq!(items["total"], 0);

    // Logging out ends the session.
    let out = with_cookie(&node, Method::POST, "/api/v1/auth/logout", pair).await;
    assert_eq!(out.status, 204, "{}", out.text);
    with_cookie(&node, Method::GET, "/api/v1/auth/me", pair).await.expect_error(401, "UNAUTHORIZED");

    // A wrong password and an unknown login get the same answer.
    let wrong = login(&node, "zhang.wei", "not-the-password").await.0.expect_error(401, "BAD_CREDENTIALS");
    let nobody = login(&node, "li.si", "not-the-password").await.0.expect_error(401, "BAD_CREDENTIALS");
    assert_eq!(wrong, nobody);

    // Five consecutive failures lock the account; then even the right password is refused.
    let _ = session(&node, "zhang.wei").await; // a success starts the count again
    for _ in 0..4 {
        login(&node, "zhang.wei", "still-not-it").await.0.expect_error(401, "BAD_CREDENTIALS");
    }
    let locked = login(&node, "Zhang.Wei", "still-not-it").await.0.expect_error(429, "ACCOUNT_LOCKED");
    assert!(locked["message"].as_str().unwrap().contains("+08:00"), "names the unlock time: {locked}");
    login(&node, "zhang.wei", PASSWORD).await.0.expect_error(429, "ACCOUNT_LOCKED");

    // Sixteen minutes later (by the node's clock) the right password works again.
    let later = chrono::Utc::now() + chrono::Duration::minutes(16);
    node.set_clock(&later.to_rfc3339()).await;
    let (reply, _) = login(&node, "zhang.wei", PASSWORD).await;
    assert_eq!(reply.expect(200)["login"], "zhang.wei");
}

#[tokio::test]
async fn an_auditor_reads_but_cannot_write_and_disabling_stops_sessions_and_tokens() {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    cli_add(&node, &["--login", "shen.ji", "--name", "审计局 王五", "--role", "审计监督人员"]).await;
    let clerk = json!({
        "login": "li.na", "name": "李娜", "roles": ["clerk", "法制审核人"],
        "department": "泸县司法局", "password": PASSWORD,
    });
    let made = node.post_json("/api/v1/users", &clerk).await.expect(201);
    assert_eq!((made["account"].as_str(), made["roles"].clone()), (Some("u2"), json!(["clerk", "legal"])));

    // The list (CLI and API) shows the accounts, never a hash.
    let list = node.cli(["user", "list"]).await;
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success() && text.contains("shen.ji") && text.contains("li.na"), "{}", describe(&list));
    let listed = node.get("/api/v1/users").await;
    assert!(!listed.text.contains("argon2") && !listed.text.contains("password"), "{}", listed.text);
    assert_eq!(listed.json()["accounts"].as_array().unwrap().len(), 2);

    // An API token, printed once on stdout.
    let out = node.cli(["user", "token", "shen.ji", "--label", "月度核查脚本"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(token.len(), 64, "{}", describe(&out));

    // The auditor reads (token and session) but every operator write is refused, changing nothing.
    let before = node.snapshot().await;
    let cookie = session(&node, "shen.ji").await;
    assert_eq!(with_bearer(&node, Method::GET, "/api/v1/items", &token).await.expect(200)["total"], 1);
    assert_eq!(with_cookie(&node, Method::GET, "/api/v1/node", &cookie).await.expect(200)["items"], 1);
    assert_eq!(with_bearer(&node, Method::GET, "/api/v1/auth/me", &token).await.expect(200)["account"], "u1");
    let writes = [
        (Method::POST, "/api/v1/items", food_penalty()),
        (Method::PATCH, "/api/v1/items/XK00035000", json!({"time_limit": {"promised_days": 5}})),
        (Method::POST, "/api/v1/admin/rebuild", Value::Null),
        (
            Method::POST,
            "/api/v1/users",
            json!({"login": "x.y", "name": "某", "roles": ["operator"], "password": PASSWORD}),
        ),
    ];
    for (method, path, body) in writes {
        let by_token = node.request(method.clone(), path).bearer_auth(&token).json(&body);
        let refused = node.send(by_token).await.expect_error(403, "FORBIDDEN_ROLE");
        assert!(refused["message"].as_str().unwrap().contains("operator"), "{refused}");
        node.send(node.request(method, path).header("cookie", &cookie).json(&body))
            .await
            .expect_error(403, "FORBIDDEN_ROLE");
    }
    // A clerk may not list the accounts (operator and auditors only).
    let clerk_cookie = session(&node, "li.na").await;
    with_cookie(&node, Method::GET, "/api/v1/users", &clerk_cookie).await.expect_error(403, "FORBIDDEN_ROLE");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "the auditor's and clerk's writes");
    assert_eq!(node.get("/api/v1/users").await.json()["accounts"].as_array().unwrap().len(), 2);

    // Disabled: the token, the session and the password all stop working at once.
    let out = node.cli(["user", "disable", "shen.ji"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    with_bearer(&node, Method::GET, "/api/v1/items", &token).await.expect_error(401, "UNAUTHORIZED");
    with_cookie(&node, Method::GET, "/api/v1/items", &cookie).await.expect_error(401, "UNAUTHORIZED");
    login(&node, "shen.ji", PASSWORD).await.0.expect_error(401, "BAD_CREDENTIALS");
    assert_eq!(with_cookie(&node, Method::GET, "/api/v1/items", &clerk_cookie).await.status, 200, "others unaffected");
}

#[tokio::test]
async fn reads_need_a_caller_but_health_federation_login_and_public_routes_stay_open() {
    let node = TestNode::luxian().await;
    for path in ["/api/v1/items", "/api/v1/node", "/api/v1/log", "/api/v1/users", "/api/v1/auth/me", "/api/v1/nowhere"]
    {
        node.send(node.request(Method::GET, path)).await.expect_error(401, "UNAUTHORIZED");
    }
    node.send(node.request(Method::GET, "/api/v1/items").bearer_auth("f".repeat(64)))
        .await
        .expect_error(401, "UNAUTHORIZED");
    for path in ["/healthz", "/metrics", "/api/v1/fed/heads", "/api/v1/fed/pull?after=&wait=0"] {
        let reply = node.send(node.request(Method::GET, path)).await;
        assert_eq!(reply.status, 200, "{path} without a login: {}", reply.text);
    }
    // The public list is not behind a login (an unknown public path is 404, not 401).
    node.send(node.request(Method::GET, "/api/v1/public/items")).await.expect_error(404, "NOT_FOUND");
    let page = node.send(node.request(Method::GET, "/public")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    node.send(node.request(Method::GET, "/api/v1/public/digest")).await.expect(200);
    // The peer routes answer on their own terms, not with UNAUTHORIZED.
    let enrol = node.request(Method::POST, "/api/v1/fed/enroll").json(&json!({"token": "0", "public_key": "0"}));
    assert_ne!(node.send(enrol).await.json()["code"], "UNAUTHORIZED");
    let recover = node.request(Method::GET, "/api/v1/fed/recover?origin=510521").bearer_auth("0".repeat(64));
    node.send(recover).await.expect_error(403, "INVITE_INVALID");
    // The login route is open: a wrong password is BAD_CREDENTIALS, not UNAUTHORIZED.
    login(&node, "nobody", "whatever-it-is").await.0.expect_error(401, "BAD_CREDENTIALS");
}

#[tokio::test]
async fn bad_accounts_are_refused_with_a_clear_reason_and_nothing_is_created() {
    let node = TestNode::luxian().await;
    let account = |login: &str, roles: Value, department: Value, password: &str| json!({ "login": login, "name": "王芳", "roles": roles, "department": department, "password": password });
    let short =
        node.post_json("/api/v1/users", &account("wang.fang", json!(["legal"]), Value::Null, "123456789")).await;
    let body = short.expect_error(422, "WEAK_PASSWORD");
    assert!(body["message"].as_str().unwrap().contains("10"), "{body}");
    let unknown = node.post_json("/api/v1/users", &account("wang.fang", json!(["mayor"]), Value::Null, PASSWORD)).await;
    assert!(unknown.expect_error(422, "UNKNOWN_ROLE")["message"].as_str().unwrap().contains("mayor"));
    let clerk = node.post_json("/api/v1/users", &account("wang.fang", json!(["clerk"]), json!("  "), PASSWORD)).await;
    clerk.expect_error(422, "DEPARTMENT_REQUIRED");
    let bad_login = node.post_json("/api/v1/users", &account("王芳", json!(["legal"]), Value::Null, PASSWORD)).await;
    bad_login.expect_error(422, "BAD_ACCOUNT");
    assert_eq!(node.get("/api/v1/users").await.expect(200)["accounts"], json!([]));

    // The CLI says the same before or after asking the node.
    let short_file = password_file(&node, "short");
    let cases: [(&[&str], &str); 3] = [
        (&["--login", "wang.fang", "--name", "王芳", "--role", "legal", "--password-file", &short_file], "至少 10"),
        (&["--login", "wang.fang", "--name", "王芳", "--role", "mayor", "--password-file", &short_file], "mayor"),
        (&["--login", "wang.fang", "--name", "王芳", "--role", "部门经办人"], "--department"),
    ];
    for (args, says) in cases {
        let mut all = vec!["user", "add"];
        all.extend_from_slice(args);
        let out = quanze_command()
            .args(&all)
            .arg("--data-dir")
            .arg(&node.data_dir)
            .env("QUANZE_PASSWORD", PASSWORD)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{args:?}: {}", describe(&out));
    }
    // Without a password source and without a terminal, the CLI asks for one and stops.
    let out = node.cli(["user", "add", "--login", "wang.fang", "--name", "王芳", "--role", "legal"]).await;
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--password-file"));
    assert_eq!(node.get("/api/v1/users").await.expect(200)["accounts"], json!([]));

    // QUANZE_PASSWORD works; the same login twice is a conflict.
    let add = || {
        quanze_command()
            .args(["user", "add", "--login", "wang.fang", "--name", "王芳", "--role", "legal", "--data-dir"])
            .arg(&node.data_dir)
            .env("QUANZE_PASSWORD", PASSWORD)
            .output()
    };
    let first = add().await.unwrap();
    assert!(first.status.success(), "{}", describe(&first));
    let second = add().await.unwrap();
    assert!(!second.status.success() && String::from_utf8_lossy(&second.stderr).contains("LOGIN_TAKEN"));
    assert_eq!(session(&node, "wang.fang").await.len(), "quanze_session=".len() + 64);
}

/// A write sent with the session cookie from a page of another site (its `Origin`) is refused
/// and changes nothing; the same write from the node's own pages, or with a bearer token, passes.
#[tokio::test]
async fn a_cookie_write_from_another_site_is_refused() {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    let ops = json!({"login": "yun.wei", "name": "运维", "roles": ["operator"], "password": PASSWORD});
    node.post_json("/api/v1/users", &ops).await.expect(201);
    let cookie = session(&node, "yun.wei").await;
    let before = node.snapshot().await;
    let cancel = |origin: &str| {
        node.request(Method::POST, "/api/v1/items/XK00035000/cancel")
            .header("cookie", &cookie)
            .header("origin", origin)
            .json(&json!({"reason": "依据文件取消"}))
    };
    let refused = node.send(cancel("https://evil.example")).await.expect_error(403, "CROSS_SITE_REQUEST");
    assert_bilingual(refused["message"].as_str().unwrap());
    node.send(cancel("null")).await.expect_error(403, "CROSS_SITE_REQUEST");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "a cross-site write");
    // From the node's own console page the same write goes through.
    let own = node.url.clone();
    node.send(cancel(&own)).await.expect(200);
}
