/*
 * diachiso map viewer: the staff editor (issue 12). Log in and out (the session cookie is HttpOnly;
 * the CSRF token /auth/login answers is kept in memory only and sent as X-CSRF-Token on every write);
 * add, drag and retire points with Leaflet-Geoman; an attribute form showing the server's validation
 * messages in the chosen language; the new location code after a move; the conflict dialog (their
 * version beside yours: reapply yours on top, or keep theirs); the history of the selected feature;
 * the approvers' queue of proposals. Its words are in app.js's one dictionary (WORDS).
 */
(function () {
  "use strict";

  const L = window.L;
  const viewer = window.diachiso;
  const { map, t, escapeHtml } = viewer;

  /* ============================================================ what can be edited */

  const ROLE_RANK = { viewer: 0, editor: 1, approver: 2, admin: 3 };

  /** The point datasets of the editor, their attribute fields (addresses.datasets) and required ones. */
  const DATASETS = {
    addresses: { fields: ["house_number", "alley", "street", "village_name"], required: [] },
    villages: { fields: ["name", "village_type"], required: ["name"] },
    places: { fields: ["name", "category", "kind", "house_number", "street"], required: ["category", "kind"] },
  };
  const REF_DATASETS = { village: "villages", place: "places" };

  const session = { account: null, csrf: null };
  const SESSION_FLAG = "diachiso.loggedIn";
  /** The feature in the form: dataset, key (null when new), the server's feature, the marker, a pending move. */
  let current = null;
  /** What the last answer said (re-rendered in the other language by the switch). */
  let lastMessage = null;
  let conflict = null;

  const $ = (id) => document.getElementById(id);
  const can = (role) => Boolean(session.account) && ROLE_RANK[session.account.role] >= ROLE_RANK[role];

  /* ============================================================ talking to the server */

  /** An error answer of the API: its status, the shared error body and, for a 409, the current Feature. */
  class ApiError extends Error {
    constructor(status, body) {
      super(body?.error?.message ?? `HTTP ${status}`);
      this.status = status;
      this.error = body?.error ?? { message: `HTTP ${status}` };
      this.current = body?.current ?? body?.error?.current ?? null;
    }
  }

  /** Call the API as the logged-in user: JSON in and out, X-CSRF-Token on writes, If-Match when a version is named. */
  async function api(method, url, { body, version } = {}) {
    const headers = { Accept: "application/json, application/geo+json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
    if (version !== undefined && version !== null) headers["If-Match"] = `"${version}"`;
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, answer);
    return answer;
  }

  /** The server's message in the chosen language (message_vi in Vietnamese, message in English). */
  function serverText(error) {
    if (!error) return "";
    const vi = error.message_vi ?? error.messages?.vi;
    return viewer.lang() === "vi" && vi ? vi : error.message ?? vi ?? "";
  }

  /** Show a message under a form: {key, values} of the dictionary or {error} of the server; kept for the switch. */
  function say(elementId, message) {
    lastMessage = { ...lastMessage, [elementId]: message };
    renderMessage(elementId);
  }

  function renderMessage(elementId) {
    const element = $(elementId);
    const message = lastMessage?.[elementId];
    if (!element) return;
    element.className = `message${message?.error ? " error" : ""}`;
    if (!message) element.textContent = "";
    else if (message.error) element.textContent = serverText(message.error);
    else element.textContent = t(message.key, message.values ?? {});
  }

  /* ============================================================ log in, log out */

  /** Who is logged in, and as what (words only: the language switch redraws them). */
  function renderAccount() {
    const account = session.account;
    $("login-box").hidden = Boolean(account);
    $("account-info").hidden = !account;
    $("account-name").textContent = account ? t("logged_in", { name: account.display_name || account.username }) : "";
    $("account-role").textContent = account ? t(`role_${account.role}`) : "";
    $("account-role").dataset.role = account?.role ?? "";
  }

  /** The panel and the tools for the account logged in (or for nobody). */
  function showAccount() {
    const account = session.account;
    renderAccount();
    $("editor-section").hidden = !can("editor");
    $("proposals-section").hidden = !can("approver");
    setTools(can("editor"));
    if (!can("editor")) closeFeature();
    if (account && !can("editor")) say("login-message", { key: "no_edit_rights" });
    if (can("approver")) loadProposals();
    else clearProposals();
  }

  async function logIn(event) {
    event.preventDefault();
    const form = event.target;
    try {
      const answer = await api("POST", "/auth/login", {
        body: { username: form.username.value.trim(), password: form.password.value },
      });
      session.account = answer.account;
      session.csrf = answer.csrf_token;
      localStorage.setItem(SESSION_FLAG, "1");
      form.password.value = "";
      $("login-box").open = false; // folded again for the next log-in
      say("login-message", null);
      const preferred = answer.account.language;
      if ((preferred === "en" || preferred === "vi") && preferred !== viewer.lang()) {
        document.querySelector(`#lang-switch button[data-lang=${preferred}]`)?.click();
      }
    } catch (error) {
      say("login-message", { error: error.error ?? { message: error.message } });
    }
    showAccount();
  }

  /** The server no longer knows the session (expired, closed elsewhere): log in again; the form stays. */
  function sessionEnded() {
    session.account = null;
    session.csrf = null;
    localStorage.removeItem(SESSION_FLAG);
    renderAccount();
    $("login-box").open = true;
  }

  async function logOut() {
    try {
      await api("POST", "/auth/logout", { body: {} });
    } catch (error) {
      if (error.status !== 401) say("login-message", { error: error.error });
    }
    session.account = null;
    session.csrf = null;
    localStorage.removeItem(SESSION_FLAG);
    showAccount();
  }

  /**
   * A session still open (the page was reloaded) is used only if /auth/me also gives its CSRF token back.
   * Asked only when this browser logged in before (a flag, never the token): anonymous visitors send nothing.
   */
  async function restoreSession() {
    if (localStorage.getItem(SESSION_FLAG) !== "1") return showAccount();
    try {
      const answer = await api("GET", "/auth/me");
      const account = answer?.account ?? answer;
      if (answer?.csrf_token && account?.role) {
        session.account = account;
        session.csrf = answer.csrf_token;
      }
    } catch {
      localStorage.removeItem(SESSION_FLAG); // the session ended: the form is shown
    }
    showAccount();
  }

  /* ============================================================ markers */

  const editLayer = L.featureGroup().addTo(map);
  /** A drag ends with a mouse-up the map may take for a click: no reverse geocoding until a moment after. */
  const dragging = { until: 0 };
  const proposalLayer = L.featureGroup().addTo(map);

  /**
   * Where a feature's marker stands: its point, or the middle of the bounds of an area (a village drawn
   * as a polygon: its marker shows it, but only points are dragged; areas keep their shape).
   */
  function markerPoint(geometry) {
    if (geometry?.type === "Point") return L.latLng(geometry.coordinates[1], geometry.coordinates[0]);
    return L.geoJSON(geometry).getBounds().getCenter();
  }

  function pointIcon(status, selected) {
    const classes = ["edit-point", `status-${status ?? "new"}`];
    if (selected) classes.push("selected");
    return L.divIcon({ className: classes.join(" "), iconSize: [18, 18], iconAnchor: [9, 9] });
  }

  /** The editable marker of the feature in the form (Leaflet-Geoman drags it; its removal tool retires it). */
  function editMarker(latlng, status, draggable) {
    const marker = L.marker(latlng, { icon: pointIcon(status, true), pmIgnore: false, zIndexOffset: 1000 });
    marker.addTo(editLayer);
    if (!draggable) return marker;
    marker.on("pm:edit pm:dragend", () => moved(marker.getLatLng()));
    marker.on("dragstart pm:dragstart", () => (dragging.until = Infinity));
    marker.on("dragend pm:dragend", () => (dragging.until = Date.now() + 400));
    marker.pm.enable({ draggable: true });
    return marker;
  }

  function moved(latlng) {
    if (!current) return;
    current.moved = latlng;
    const info = $("feature-moved");
    info.hidden = false;
    info.textContent = t("moved_to", { lat: latlng.lat.toFixed(6), lon: latlng.lng.toFixed(6) });
    $("feature-location").hidden = true;
  }

  /* ============================================================ the attribute form */

  function fieldId(name) {
    return `field-${name}`;
  }

  function fieldCaption(dataset, name) {
    return t(`field_${name}`) + (DATASETS[dataset].required.includes(name) ? " *" : "");
  }

  function renderFields(dataset, properties) {
    const spec = DATASETS[dataset];
    $("feature-fields").replaceChildren(
      ...spec.fields.map((name) => {
        const label = document.createElement("label");
        const caption = document.createElement("span");
        caption.dataset.field = name;
        caption.textContent = fieldCaption(dataset, name);
        const input = document.createElement("input");
        input.name = name;
        input.id = fieldId(name);
        input.value = properties?.[name] ?? "";
        input.required = spec.required.includes(name);
        input.spellcheck = false;
        const problem = document.createElement("span");
        problem.className = "field-error";
        problem.id = `${fieldId(name)}-error`;
        input.setAttribute("aria-describedby", problem.id);
        label.append(caption, input, problem);
        return label;
      }),
    );
  }

  /** The key of a Feature of a dataset: the registry code of an address, else the id. */
  function featureKey(dataset, feature) {
    const p = feature.properties ?? {};
    return dataset === "addresses" ? p.registry_code ?? feature.id : feature.id ?? p.id;
  }

  function keyText(dataset, key) {
    return dataset === "addresses" ? viewer.formatRegistryCode(key) : `#${key}`;
  }

  function renderTitle() {
    if (!current) return;
    const kind = t(`dataset_${current.dataset}`);
    const p = current.feature?.properties;
    $("feature-title").textContent = current.key
      ? t("feature_title", { kind, key: keyText(current.dataset, current.key) })
      : t("new_feature", { kind });
    $("feature-status").textContent = p
      ? t("feature_status", { status: t(`status_${p.status}`), version: p.version })
      : "";
    $("feature-retire").hidden = !current.key || p?.status === "retired";
    $("feature-history").hidden = !current.key;
  }

  /** Put a feature (or a new point) in the form and its marker on the map. */
  function openForm(dataset, key, feature, latlng) {
    closeFeature();
    const status = feature?.properties?.status;
    const draggable = !feature || feature.geometry?.type === "Point";
    current = { dataset, key, feature, draggable, moved: null, marker: editMarker(latlng, status, draggable) };
    if (!key) current.moved = latlng;
    renderFields(dataset, feature?.properties);
    $("feature-form").comment.value = "";
    $("feature-form").confirm_duplicate.checked = false;
    $("duplicate-row").hidden = true;
    $("feature-moved").hidden = true;
    $("feature-location").hidden = true;
    $("history-section").hidden = true;
    say("feature-message", null);
    renderTitle();
    $("feature-form").hidden = false;
    if (viewer.isPhone()) viewer.setPanel(true);
  }

  function closeFeature() {
    editLayer.clearLayers();
    current = null;
    $("feature-form").hidden = true;
    $("history-section").hidden = true;
  }

  /** Load a feature by dataset and key (GET /{dataset}/{key}) and open it in the form. */
  async function editFeature(dataset, key) {
    try {
      const feature = await api("GET", `/${dataset}/${encodeURIComponent(key)}`);
      const at = markerPoint(feature.geometry);
      map.closePopup();
      openForm(dataset, featureKey(dataset, feature), feature, at);
      if (map.getZoom() < 17) map.setView(at, 18, { animate: false });
    } catch (error) {
      say("feature-message", { error: error.error ?? { message: error.message } });
    }
  }

  /** The attribute values of the form that differ from the feature's (all non-empty ones for a new point). */
  function changedFields() {
    const form = $("feature-form");
    const changes = {};
    for (const name of DATASETS[current.dataset].fields) {
      const value = form.elements[name].value.trim();
      const before = current.feature?.properties?.[name] ?? "";
      if (current.key ? value !== String(before) : value !== "") changes[name] = value === "" ? null : value;
    }
    return changes;
  }

  function clearFieldErrors() {
    for (const element of document.querySelectorAll("#feature-fields .field-error")) element.textContent = "";
    for (const input of document.querySelectorAll("#feature-fields input")) input.removeAttribute("aria-invalid");
  }

  /** Client-side check of required fields (the server checks everything again). */
  function missingFields() {
    const form = $("feature-form");
    return DATASETS[current.dataset].required.filter((name) => !form.elements[name].value.trim());
  }

  /** Mark the field a server error names (parameter or field, e.g. "properties.house_number"). */
  function markField(error) {
    const named = String(error?.field ?? error?.parameter ?? "").split(/[.\[\]]/).filter(Boolean).pop();
    const input = named && document.getElementById(fieldId(named));
    if (!input) return;
    input.setAttribute("aria-invalid", "true");
    $(`${fieldId(named)}-error`).textContent = serverText(error);
  }

  function showFieldErrors(error) {
    clearFieldErrors();
    for (const item of error.errors ?? [error]) markField(item);
  }

  /** What the form would send: changed properties, the moved geometry, the comment. */
  function pendingEdit() {
    const form = $("feature-form");
    const edit = { properties: changedFields(), comment: form.comment.value.trim() };
    if (current.moved) edit.geometry = { type: "Point", coordinates: [current.moved.lng, current.moved.lat] };
    return edit;
  }

  async function save(event) {
    event.preventDefault();
    if (!current) return;
    clearFieldErrors();
    const missing = missingFields();
    if (missing.length) {
      for (const name of missing) {
        $(fieldId(name)).setAttribute("aria-invalid", "true");
        $(`${fieldId(name)}-error`).textContent = t("required", { field: t(`field_${name}`) });
      }
      return say("feature-message", { key: "required", values: { field: t(`field_${missing[0]}`) } });
    }
    const edit = pendingEdit();
    if (current.key && !edit.geometry && !Object.keys(edit.properties).length) {
      return say("feature-message", { key: "nothing_changed" });
    }
    say("feature-message", { key: "saving" });
    await (current.key ? sendUpdate(edit, current.feature.properties.version) : sendCreate(edit));
  }

  async function sendCreate(edit) {
    const body = {
      type: "Feature",
      geometry: edit.geometry,
      properties: edit.properties,
      comment: edit.comment,
      confirm_duplicate: $("feature-form").confirm_duplicate.checked,
    };
    try {
      const feature = await api("POST", `/${current.dataset}`, { body });
      const dataset = current.dataset;
      saved(feature, featureKey(dataset, feature));
      say("feature-message", { key: "created", values: { key: keyText(dataset, current.key), status: t(`status_${feature.properties.status}`) } });
    } catch (error) {
      refused(error, edit);
    }
  }

  async function sendUpdate(edit, version) {
    try {
      const feature = await api("PATCH", `/${current.dataset}/${encodeURIComponent(current.key)}`, {
        body: edit,
        version,
      });
      saved(feature, current.key);
      say("feature-message", { key: "saved", values: { version: feature.properties.version } });
    } catch (error) {
      refused(error, edit);
    }
  }

  /** The server's answer becomes the feature of the form; a new location code is shown. */
  function saved(feature, key) {
    const hadMove = Boolean(current.moved);
    current.key = key;
    current.feature = feature;
    current.moved = null;
    renderFields(current.dataset, feature.properties);
    $("feature-form").comment.value = "";
    $("duplicate-row").hidden = true;
    $("feature-moved").hidden = true;
    current.marker.setLatLng(markerPoint(feature.geometry));
    current.marker.setIcon(pointIcon(feature.properties.status, true));
    if (current.draggable) current.marker.pm.enable({ draggable: true });
    const code = feature.properties.location_code;
    $("feature-location").hidden = !(hadMove && code);
    if (code) document.querySelector("[data-code=new-location]").textContent = viewer.grid.format(code);
    renderTitle();
    if (!$("history-section").hidden) loadHistory();
    if (can("approver")) loadProposals();
  }

  /** A refused write: the conflict dialog (409 with the current version), a duplicate to confirm, or the message. */
  function refused(error, edit) {
    if (error.status === 409 && error.current) return openConflict(error.current, edit);
    if (error.status === 401) sessionEnded();
    say("feature-message", { error: error.error ?? { message: error.message } });
    showFieldErrors(error.error ?? {});
    if (!current.key && (error.status === 409 || error.status === 422) && /duplicate/i.test(JSON.stringify(error.error))) {
      $("duplicate-row").hidden = false;
    }
  }

  /* ============================================================ the conflict dialog */

  function positionText(geometry) {
    const [lon, lat] = geometry?.coordinates ?? [];
    return lon === undefined ? t("unknown") : `${lat.toFixed(6)}, ${lon.toFixed(6)}`;
  }

  function definitionRows(rows) {
    return rows
      .map(([name, value, changed]) => `<dt>${escapeHtml(name)}</dt><dd${changed ? ' class="changed"' : ""}>${escapeHtml(value ?? "—")}</dd>`)
      .join("");
  }

  function renderConflict() {
    if (!conflict) return;
    const theirs = conflict.theirs.properties;
    const mine = conflict.edit;
    const fields = DATASETS[current.dataset].fields;
    $("conflict-text").textContent = t("conflict_text", { version: theirs.version });
    $("conflict-theirs").innerHTML = definitionRows([
      [t("version"), theirs.version],
      [t("status"), t(`status_${theirs.status}`)],
      ...fields.map((name) => [t(`field_${name}`), theirs[name], name in mine.properties]),
      [t("position"), positionText(conflict.theirs.geometry), Boolean(mine.geometry)],
    ]);
    $("conflict-yours").innerHTML = definitionRows([
      ...fields.filter((name) => name in mine.properties).map((name) => [t(`field_${name}`), mine.properties[name], true]),
      ...(mine.geometry ? [[t("position"), positionText(mine.geometry), true]] : []),
      ...(mine.comment ? [[t("comment"), mine.comment]] : []),
    ]);
  }

  function openConflict(theirs, edit) {
    conflict = { theirs, edit };
    say("feature-message", null);
    renderConflict();
    $("conflict-dialog").showModal();
  }

  /** Re-send my changes on top of their version. */
  async function reapplyMine() {
    const { theirs, edit } = conflict;
    $("conflict-dialog").close();
    conflict = null;
    current.feature = theirs;
    await sendUpdate(edit, theirs.properties.version);
  }

  /** Drop my changes: the form and the marker show their version. */
  function keepTheirs() {
    const { theirs } = conflict;
    $("conflict-dialog").close();
    conflict = null;
    openForm(current.dataset, current.key, theirs, markerPoint(theirs.geometry));
  }

  /* ============================================================ retire */

  function askRetire() {
    if (!current?.key) return;
    const dialog = $("retire-dialog");
    dialog.querySelector("textarea").value = "";
    dialog.showModal();
  }

  async function retire() {
    if ($("retire-dialog").returnValue !== "retire" || !current?.key) return;
    const comment = $("retire-dialog").querySelector("textarea").value.trim();
    try {
      const feature = await api("POST", `/${current.dataset}/${encodeURIComponent(current.key)}/retire`, {
        body: { comment },
        version: current.feature.properties.version,
      });
      current.feature = feature;
      current.marker.setIcon(pointIcon("retired", true));
      current.marker.pm.disable();
      renderTitle();
      say("feature-message", { key: "retired_done", values: { version: feature.properties.version } });
    } catch (error) {
      refused(error, { properties: {}, comment });
    }
  }

  /* ============================================================ history */

  /** Whether the dictionary has a word (field names of other datasets are shown as they are). */
  const WORDS_HAVE = (key) => t(key) !== key;

  function diffText(diff) {
    if (!diff) return "";
    const parts = [];
    for (const [name, change] of Object.entries(diff.fields ?? diff.properties ?? diff)) {
      if (name === "geometry" || name === "geometry_moved" || name === "moved_m") continue;
      const [before, after] = Array.isArray(change) ? change : [change?.old, change?.new];
      const field = WORDS_HAVE(`field_${name}`) ? t(`field_${name}`) : name;
      parts.push(`${field}: ${before ?? "—"} → ${after ?? "—"}`);
    }
    if (diff.geometry || diff.geometry_moved || diff.moved_m) parts.push(t("geometry_moved"));
    return parts.join("; ");
  }

  function historyItem(entry) {
    const item = document.createElement("li");
    item.dataset.version = entry.version;
    const head = document.createElement("div");
    const action = entry.action ? t(`action_${entry.action}`) : "";
    const author = entry.author?.username ?? entry.author ?? t("unknown");
    const time = entry.time ? new Date(entry.time).toLocaleString(viewer.lang()) : "";
    head.textContent = t("history_item", { version: entry.version, action, author, time });
    item.append(head);
    const changeset = entry.changeset ?? {};
    const comment = changeset.comment ?? entry.comment;
    if (comment) {
      const note = document.createElement("div");
      note.className = "history-comment";
      note.textContent = `“${comment}”`;
      item.append(note);
    }
    const diff = diffText(entry.diff);
    if (diff) {
      const detail = document.createElement("div");
      detail.className = "history-diff";
      detail.textContent = diff;
      item.append(detail);
    }
    return item;
  }

  async function loadHistory() {
    if (!current?.key) return;
    const list = $("history-list");
    $("history-section").hidden = false;
    try {
      const answer = await api("GET", `/${current.dataset}/${encodeURIComponent(current.key)}/history`);
      const entries = Array.isArray(answer) ? answer : answer.versions ?? answer.history ?? [];
      const sorted = [...entries].sort((a, b) => b.version - a.version);
      list.replaceChildren(...sorted.map(historyItem));
      if (!sorted.length) list.replaceChildren(Object.assign(document.createElement("li"), { textContent: t("history_empty") }));
    } catch (error) {
      list.replaceChildren(Object.assign(document.createElement("li"), { className: "message error", textContent: serverText(error.error) }));
    }
  }

  /* ============================================================ the approvers' queue */

  /** Dataset and key of a proposal (a Feature of /proposals). */
  function proposalIdentity(feature) {
    const p = feature.properties ?? {};
    const dataset = p.dataset ?? (p.registry_code ? "addresses" : "category" in p ? "places" : "villages");
    return { dataset, key: p.key ?? featureKey(dataset, feature) };
  }

  function proposalLabel(feature) {
    const p = feature.properties ?? {};
    return p.label ?? p.name ?? [p.house_number, p.street, p.village_name].filter(Boolean).join(", ");
  }

  function proposalItem(feature) {
    const { dataset, key } = proposalIdentity(feature);
    const item = document.createElement("li");
    item.dataset.dataset = dataset;
    item.dataset.key = key;
    const title = document.createElement("div");
    title.textContent = `${t(`dataset_${dataset}`)} ${keyText(dataset, key)} · ${proposalLabel(feature)}`;
    const comment = document.createElement("input");
    comment.name = "comment";
    comment.placeholder = t("comment");
    comment.setAttribute("aria-label", t("comment"));
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    for (const [action, word] of [["show", "show"], ["approve", "approve"], ["reject", "reject"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = action;
      button.textContent = t(word);
      button.addEventListener("click", () => actOnProposal(action, feature, comment.value.trim()));
      buttons.append(button);
    }
    item.append(title, comment, buttons);
    return item;
  }

  function showProposalsOnMap(features) {
    proposalLayer.clearLayers();
    for (const feature of features) {
      if (!feature.geometry) continue;
      L.marker(markerPoint(feature.geometry), { icon: pointIcon("proposed", false), keyboard: false })
        .on("click", () => {
          const { dataset, key } = proposalIdentity(feature);
          editFeature(dataset, key);
        })
        .addTo(proposalLayer);
    }
  }

  async function loadProposals() {
    try {
      const answer = await api("GET", "/proposals");
      const features = Array.isArray(answer) ? answer : answer.features ?? answer.proposals ?? [];
      $("proposals-list").replaceChildren(...features.map(proposalItem));
      showProposalsOnMap(features);
      if (!features.length) say("proposals-message", { key: "proposals_empty" });
      else say("proposals-message", null);
    } catch (error) {
      say("proposals-message", { error: error.error ?? { message: error.message } });
    }
  }

  function clearProposals() {
    $("proposals-list").replaceChildren();
    proposalLayer.clearLayers();
    say("proposals-message", null);
  }

  async function actOnProposal(action, feature, comment) {
    const { dataset, key } = proposalIdentity(feature);
    if (action === "show") return editFeature(dataset, key);
    try {
      const latest = await api("GET", `/${dataset}/${encodeURIComponent(key)}`);
      await api("POST", `/${dataset}/${encodeURIComponent(key)}/${action}`, {
        body: { comment },
        version: latest.properties.version,
      });
      await loadProposals();
      say("proposals-message", { key: action === "approve" ? "approved" : "rejected", values: { key: keyText(dataset, key) } });
      if (current?.key === key && current.dataset === dataset) editFeature(dataset, key);
    } catch (error) {
      say("proposals-message", { error: error.error ?? { message: error.message } });
    }
  }

  /* ============================================================ Leaflet-Geoman tools */

  L.PM.setOptIn(true); // only the editor's own markers are editable, never the viewer's other layers

  function geomanWords() {
    return {
      tooltips: { placeMarker: t("pm_place_marker") },
      actions: { finish: t("pm_finish"), cancel: t("cancel") },
      buttonTitles: { drawMarkerButton: t("pm_draw_marker"), dragButton: t("pm_drag"), deleteButton: t("pm_remove") },
    };
  }

  function setTools(on) {
    if (on && !map.pm.controlsVisible()) {
      map.pm.addControls({
        position: "topleft",
        drawMarker: true,
        drawCircleMarker: false,
        drawPolyline: false,
        drawRectangle: false,
        drawPolygon: false,
        drawCircle: false,
        drawText: false,
        editMode: false,
        dragMode: true,
        cutPolygon: false,
        removalMode: true,
        rotateMode: false,
      });
    } else if (!on && map.pm.controlsVisible()) {
      map.pm.disableDraw();
      map.pm.disableGlobalDragMode();
      map.pm.disableGlobalRemovalMode();
      map.pm.removeControls();
    }
  }

  function translateTools() {
    map.pm.setLang(`diachiso-${viewer.lang()}`, geomanWords(), "en");
  }

  /** A point drawn with the marker tool: a new feature of the kind chosen in the panel. */
  map.on("pm:create", (event) => {
    const latlng = event.layer.getLatLng();
    event.layer.remove();
    map.pm.disableDraw();
    openForm($("new-kind").value, null, null, latlng);
  });

  /** The removal tool retires (never deletes): the marker stays until the server says it is retired. */
  map.on("pm:remove", (event) => {
    if (!current || event.layer !== current.marker) return;
    map.pm.disableGlobalRemovalMode();
    if (!current.key) return closeFeature();
    const marker = current.marker;
    setTimeout(() => {
      // back on the map once Geoman has finished removing it (the server decides: retire, or nothing)
      if (marker !== current?.marker) return;
      editLayer.removeLayer(marker); // the group still lists it: Geoman took it off the map only
      editLayer.addLayer(marker);
      if (current.draggable) marker.pm.enable({ draggable: true });
    }, 0);
    askRetire();
  });

  /* ============================================================ "Edit" in the popups */

  function editButton(dataset, key) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "edit-feature";
    button.dataset.dataset = dataset;
    button.dataset.key = key;
    button.textContent = t(`edit_${dataset}`);
    button.addEventListener("click", () => editFeature(dataset, key));
    return button;
  }

  /** A popup naming an address (registry code) or a village or place (ref) offers to edit it. */
  map.on("popupopen", (event) => {
    const place = event.popup.getElement()?.querySelector(".place-popup");
    if (!place || !can("editor")) return;
    const buttons = [];
    if (place.dataset.registryCode) buttons.push(editButton("addresses", place.dataset.registryCode));
    const refs = new Set([place.dataset.ref, place.dataset.villageRef].filter(Boolean)); // "village:434", "place:12"
    for (const ref of refs) {
      const [kind, id] = ref.split(":");
      if (REF_DATASETS[kind] && /^\d+$/.test(id ?? "")) buttons.push(editButton(REF_DATASETS[kind], id));
    }
    if (!buttons.length) return;
    const row = document.createElement("div");
    row.className = "buttons";
    row.append(...buttons);
    place.append(row);
    event.popup.setContent(place); // the element itself (a string content would be drawn again without them)
  });

  /* ============================================================ wiring */

  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("feature-form").addEventListener("submit", save);
  $("feature-retire").addEventListener("click", askRetire);
  $("retire-dialog").addEventListener("close", retire);
  $("feature-history").addEventListener("click", loadHistory);
  $("feature-close").addEventListener("click", closeFeature);
  $("conflict-reapply").addEventListener("click", reapplyMine);
  $("conflict-keep").addEventListener("click", keepTheirs);
  $("proposals-refresh").addEventListener("click", loadProposals);

  /** The language switch: everything the editor drew itself, and the server's messages, in the new language. */
  document.addEventListener("diachiso:language", () => {
    translateTools();
    renderAccount();
    if (can("approver")) loadProposals(); // its buttons and labels
    renderTitle();
    for (const id of Object.keys(lastMessage ?? {})) renderMessage(id);
    for (const caption of current ? document.querySelectorAll("#feature-fields [data-field]") : []) {
      caption.textContent = fieldCaption(current.dataset, caption.dataset.field);
    }
    if (current?.moved && current.key) moved(current.moved);
    renderConflict();
    if (!$("history-section").hidden) loadHistory();
  });

  translateTools();
  viewer.editor = {
    session,
    get current() {
      return current;
    },
    editFeature,
    editLayer,
    dragging: () => Date.now() < dragging.until,
    proposalLayer,
  };
  restoreSession();
})();
