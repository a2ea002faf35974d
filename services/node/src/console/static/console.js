// Quanze console: the only script. Pages are rendered by the node; this file turns marked
// forms and buttons into calls of the node's JSON API, shows progress while they run and
// shows the API's own error (code, message, row errors) when they fail.
//
//   form[data-api]      POST (or data-method) the form's fields as JSON, then data-then
//                       ("a.b" nests; a numeric segment makes an array: "changes.0.code")
//   button[data-api]    POST data-body (JSON text, optional); data-confirm asks first
//   form[data-upload]   send the chosen file's bytes with a progress bar, then data-then
//                       (the form's other fields go in the query; an empty "name" gets the file's
//                       name; data-format-from-name adds ?format=<the file's extension>)
//   input[data-filter]  filter the rows of the table with that id as one types
//   [data-refresh]      reload the page every N seconds
//
// data-then: "reload" | "next" (the ?next= of the sign-in page) | a path, where {key} is
// replaced by that field of the JSON answer | "show" (write data-done into the form).
"use strict";
(function () {
  var busyCount = 0;
  function busy(on) {
    busyCount += on ? 1 : -1;
    var bar = document.getElementById("q-busy");
    if (bar) bar.hidden = busyCount <= 0;
  }

  // Builds the JSON body of a form: "a.b" nests, data-kind="list|number|json|bool".
  function formJson(form) {
    var out = {};
    var fields = form.querySelectorAll("input[name], select[name], textarea[name]");
    for (var i = 0; i < fields.length; i++) {
      var el = fields[i];
      if (el.disabled || el.type === "file") continue;
      var kind = el.getAttribute("data-kind") || "";
      var value;
      if (el.type === "checkbox") {
        if (kind === "list") { if (!el.checked) continue; value = [el.value]; }
        else value = el.checked;
      } else if (el.type === "radio") {
        if (!el.checked) continue;
        value = el.value;
      } else if (el.tagName === "SELECT" && el.multiple) {
        value = [];
        for (var j = 0; j < el.options.length; j++) if (el.options[j].selected) value.push(el.options[j].value);
      } else {
        value = el.value.trim();
        if (value === "" && !el.hasAttribute("data-keep-empty")) continue;
        if (kind === "number") value = Number(value);
        else if (kind === "list") value = value.split(/[\n,，、;；]+/).map(function (s) { return s.trim(); }).filter(Boolean);
        else if (kind === "json") {
          try { value = JSON.parse(value); } catch (e) { throw new Error((el.getAttribute("data-label") || el.name) + "：不是有效的 JSON（" + e.message + "）"); }
        } else if (kind === "bool") value = value === "true";
      }
      var path = el.name.split(".");
      var target = out;
      for (var k = 0; k < path.length - 1; k++) {
        if (typeof target[path[k]] !== "object" || target[path[k]] === null) target[path[k]] = /^\d+$/.test(path[k + 1]) ? [] : {};
        target = target[path[k]];
      }
      var last = path[path.length - 1];
      if (kind === "list" && Array.isArray(target[last])) target[last] = target[last].concat(value);
      else target[last] = value;
    }
    return out;
  }

  // One row error of the API as a line a person reads.
  function rowError(e) {
    if (typeof e !== "object" || e === null) return String(e);
    var where = [];
    if (e.sheet) where.push("工作表“" + e.sheet + "”");
    if (e.row !== undefined && e.row !== null) where.push("第 " + e.row + " 行");
    if (e.column) where.push(e.column + " 列");
    else if (e.field) where.push("“" + e.field + "”");
    var what = e.message || e.reason || e.error || JSON.stringify(e);
    return (where.length ? where.join(" ") + "：" : "") + what;
  }

  function showError(box, status, body) {
    var msg = (body && body.message) || ("请求失败（HTTP " + status + "）");
    var html = document.createElement("div");
    html.textContent = msg + (body && body.code ? "  [" + body.code + "]" : "");
    if (body && Array.isArray(body.errors) && body.errors.length) {
      var ul = document.createElement("ul");
      body.errors.slice(0, 200).forEach(function (e) {
        var li = document.createElement("li");
        li.textContent = rowError(e);
        ul.appendChild(li);
      });
      if (body.errors.length > 200) {
        var more = document.createElement("li");
        more.textContent = "……共 " + body.errors.length + " 处错误";
        ul.appendChild(more);
      }
      html.appendChild(ul);
    }
    if (!box) { alert(html.textContent); return; }
    box.innerHTML = "";
    box.appendChild(html);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function errorBox(el) {
    var scope = el.closest("form") || el.closest("[data-scope]") || document;
    return scope.querySelector(".error") || document.getElementById("q-error") || null;
  }

  function after(el, then, answer) {
    if (!then || then === "reload") { location.reload(); return; }
    if (then === "next") {
      var next = new URLSearchParams(location.search).get("next") || "";
      location.href = /^\/console(\/|\?|$)/.test(next) ? next : "/console";
      return;
    }
    if (then === "show") {
      var out = (el.closest("form") || el.parentNode).querySelector(".result");
      if (out) { out.textContent = el.getAttribute("data-done") || "已完成"; out.hidden = false; }
      return;
    }
    location.href = then.replace(/\{(\w+)\}/g, function (_, key) {
      return answer && answer[key] !== undefined ? encodeURIComponent(answer[key]) : "";
    });
  }

  function parse(text) {
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  function call(el, method, url, body, contentType, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      if (contentType) xhr.setRequestHeader("Content-Type", contentType);
      if (onProgress && xhr.upload) xhr.upload.onprogress = onProgress;
      xhr.onload = function () { resolve({ status: xhr.status, body: parse(xhr.responseText) }); };
      xhr.onerror = function () { resolve({ status: 0, body: { message: "无法连接节点，请检查网络后重试 / network error" } }); };
      xhr.send(body);
    });
  }

  function run(el, method, url, body, contentType, onProgress) {
    var box = errorBox(el);
    if (box) box.hidden = true;
    var buttons = (el.closest("form") || el).querySelectorAll("button");
    var own = el.tagName === "BUTTON" ? [el] : [];
    var all = Array.prototype.slice.call(buttons).concat(own);
    all.forEach(function (b) { b.disabled = true; });
    busy(true);
    return call(el, method, url, body, contentType, onProgress).then(function (r) {
      busy(false);
      all.forEach(function (b) { b.disabled = false; });
      if (r.status >= 200 && r.status < 300) { after(el, el.getAttribute("data-then"), r.body); return true; }
      if (r.status === 401 && !/\/auth\/login$/.test(url)) {
        location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
        return false;
      }
      showError(box, r.status, r.body);
      return false;
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.hasAttribute("data-api")) {
      ev.preventDefault();
      if (form.getAttribute("data-confirm") && !confirm(form.getAttribute("data-confirm"))) return;
      var body;
      try { body = JSON.stringify(formJson(form)); } catch (e) { showError(errorBox(form), 0, { message: e.message }); return; }
      run(form, form.getAttribute("data-method") || "POST", form.getAttribute("data-api"), body, "application/json");
    } else if (form.hasAttribute("data-upload")) {
      ev.preventDefault();
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      if (!file) { showError(errorBox(form), 0, { message: "请先选择文件" }); return; }
      var bar = form.querySelector("progress");
      var label = form.querySelector(".progress-label");
      if (bar) { bar.hidden = false; bar.value = 0; bar.max = file.size || 1; }
      var url = form.getAttribute("data-upload");
      var extra = new URLSearchParams(new FormData(form));
      extra.delete(input.name);
      if (form.hasAttribute("data-format-from-name") && !extra.has("format")) {
        var ext = (file.name.match(/\.([A-Za-z0-9]+)$/) || [])[1];
        if (ext) extra.set("format", ext.toLowerCase());
      }
      if (extra.has("name") && !extra.get("name")) extra.set("name", file.name);
      var query = extra.toString();
      if (query) url += (url.indexOf("?") < 0 ? "?" : "&") + query;
      var type = file.type || "application/octet-stream";
      run(form, "POST", url, file, type, function (p) {
        if (!bar || !p.lengthComputable) return;
        bar.max = p.total; bar.value = p.loaded;
        if (label) label.textContent = p.loaded < p.total
          ? "上传中 " + Math.round(100 * p.loaded / p.total) + "%"
          : "已上传，节点正在校验和写入……";
      }).then(function (ok) { if (!ok && bar) { bar.hidden = true; if (label) label.textContent = ""; } });
    }
  });

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("button[data-api]");
    if (!el || el.form && el.type === "submit") return;
    ev.preventDefault();
    if (el.getAttribute("data-confirm") && !confirm(el.getAttribute("data-confirm"))) return;
    run(el, el.getAttribute("data-method") || "POST", el.getAttribute("data-api"), el.getAttribute("data-body") || null,
      el.getAttribute("data-body") ? "application/json" : null);
  });

  document.addEventListener("input", function (ev) {
    var el = ev.target;
    var id = el.getAttribute && el.getAttribute("data-filter");
    if (!id) return;
    var table = document.getElementById(id);
    if (!table) return;
    var needle = el.value.trim().toLowerCase();
    var rows = table.tBodies[0] ? table.tBodies[0].rows : [];
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var hit = !needle || rows[i].textContent.toLowerCase().indexOf(needle) >= 0;
      rows[i].hidden = !hit;
      if (hit) shown++;
    }
    var count = document.querySelector("[data-count-for='" + id + "']");
    if (count) count.textContent = shown;
  });

  var marker = document.querySelector("[data-refresh]");
  var refresh = marker ? Number(marker.getAttribute("data-refresh")) : 0;
  if (refresh > 0) setTimeout(function () { location.reload(); }, refresh * 1000);
})();
