/*
 * diachiso map viewer: vector tile layers (Leaflet + protomaps-leaflet, both from npm and
 * served by the app), a legend that is also the layer switcher, search with autocomplete,
 * reverse geocoding on click, "go to code" (also opened by /?code=..., the URL of a plate's QR code),
 * the location-code grid at high zoom, and a CSV (the batch output) or GeoJSON file of the user's own
 * dropped on the map or chosen, its points shown over the units with a popup of each row's fields.
 * Everything it needs comes from this server, so the map works without the internet; the
 * OpenStreetMap background is optional and off by default.
 */
(function () {
  "use strict";

  const L = window.L;
  const protomapsL = window.protomapsL;
  const Grid = window.DiachisoGrid;

  /* ============================================================ words (vi / en) */

  const WORDS = {
    vi: {
      title: "Địa chỉ số Hòa Bình",
      panel_toggle: "Bảng điều khiển",
      search_label: "Tìm địa chỉ",
      search_placeholder: "Tìm địa chỉ, thôn, xã…",
      suggestions: "Gợi ý",
      no_match: "Không tìm thấy",
      results: "Kết quả",
      goto_code: "Đến mã",
      code_placeholder: "8VG-DHS-6HB hoặc 1000-000-005",
      go: "Đi",
      layers: "Lớp bản đồ",
      click_hint: "Nhấn vào bản đồ để xem địa chỉ và mã của điểm đó.",
      api_docs: "Tài liệu API",
      map: "Bản đồ",
      from_zoom: "từ mức {z}",
      layer_units: "Xã, phường (từ 1/7/2025)",
      layer_units_2024: "Huyện, xã trước 1/7/2025",
      layer_villages: "Thôn, xóm, bản",
      layer_places: "Địa điểm",
      layer_addresses: "Địa chỉ",
      layer_grid: "Lưới mã vị trí",
      layer_osm: "Nền OpenStreetMap (trực tuyến)",
      location_code: "Mã vị trí",
      registry_code: "Mã địa chỉ số",
      current_unit: "Đơn vị hiện nay",
      old_units: "Trước 1/7/2025",
      plate: "Biển số địa chỉ",
      nearest_address: "Địa chỉ gần nhất",
      metres_away: "cách {m} m",
      no_address: "Chưa có địa chỉ đăng ký tại đây.",
      nothing_here: "Không có dữ liệu tại điểm này.",
      loading: "Đang tải…",
      error: "Lỗi",
      code_found: "Đã tìm thấy mã {code}.",
      code_not_found: "Không có địa chỉ hay ô nào mang mã {code}.",
      retired: "Địa chỉ đã ngừng sử dụng",
      type_street: "đường, xóm",
      type_village: "thôn, xóm",
      type_commune: "xã, phường",
      type_district: "huyện",
      type_province: "tỉnh",
      type_place: "địa điểm",
      type_address: "địa chỉ",
      type_point: "ô mã vị trí",
      before_2025: "trước 2025",
      approximate: "Vị trí gần đúng",
      your_file: "Tệp của bạn",
      file_hint: "Thả một tệp CSV (kết quả mã hóa địa lý hàng loạt, có cột lon, lat) hoặc GeoJSON lên bản đồ, hoặc chọn tệp:",
      file_choose: "Chọn tệp CSV hoặc GeoJSON",
      file_loaded: "{n} điểm từ {name}",
      file_skipped: "; {m} dòng không có tọa độ",
      file_error: "Không đọc được {name}: {message}",
      file_no_columns: "không có cột lon/lat",
      file_no_points: "không có điểm nào",
      file_remove: "Bỏ tệp",
      row: "Dòng",
      // the editor (editor.js)
      staff_login: "Đăng nhập (cán bộ)",
      username: "Tên đăng nhập",
      password: "Mật khẩu",
      log_in: "Đăng nhập",
      log_out: "Đăng xuất",
      logged_in: "Đã đăng nhập: {name}",
      role_viewer: "người xem",
      role_editor: "biên tập viên",
      role_approver: "người phê duyệt",
      role_admin: "quản trị viên",
      editing: "Biên tập",
      new_kind: "Loại điểm mới",
      dataset_addresses: "Địa chỉ",
      dataset_villages: "Thôn, xóm, bản",
      dataset_places: "Địa điểm",
      edit_hint: "Dùng công cụ trên bản đồ để thêm, kéo hoặc cho ngừng sử dụng một điểm; nhấn vào một điểm rồi chọn Sửa.",
      no_edit_rights: "Tài khoản này chỉ được xem, không được biên tập.",
      field_house_number: "Số nhà",
      field_alley: "Ngõ, ngách",
      field_street: "Đường, phố",
      field_village_name: "Thôn, xóm",
      field_name: "Tên",
      field_village_type: "Loại (thôn, xóm, bản…)",
      field_category: "Nhóm",
      field_kind: "Loại",
      comment: "Ghi chú thay đổi",
      confirm_duplicate: "Tôi xác nhận đây không phải địa chỉ trùng",
      save: "Lưu",
      retire: "Ngừng sử dụng",
      history: "Lịch sử",
      close: "Đóng",
      cancel: "Hủy",
      edit_addresses: "Sửa địa chỉ",
      edit_villages: "Sửa thôn, xóm",
      edit_places: "Sửa địa điểm",
      new_feature: "Điểm mới: {kind}",
      feature_title: "{kind} {key}",
      feature_status: "Trạng thái: {status} · phiên bản {version}",
      status_proposed: "đề xuất (chờ duyệt)",
      status_active: "đang sử dụng",
      status_retired: "ngừng sử dụng",
      status_rejected: "bị từ chối",
      moved_to: "Vị trí mới (chưa lưu): {lat}, {lon}",
      saved: "Đã lưu phiên bản {version}.",
      created: "Đã tạo {key} ({status}).",
      new_location_code: "Mã vị trí mới",
      required: "{field}: bắt buộc.",
      nothing_changed: "Không có gì thay đổi.",
      saving: "Đang lưu…",
      conflict_title: "Xung đột chỉnh sửa",
      conflict_text: "Người khác đã sửa điểm này sau khi bạn mở nó (nay là phiên bản {version}). So sánh hai bản:",
      their_version: "Phiên bản của họ",
      your_version: "Thay đổi của bạn",
      reapply_mine: "Áp dụng lại thay đổi của tôi",
      keep_theirs: "Giữ phiên bản của họ",
      position: "Vị trí",
      status: "Trạng thái",
      version: "Phiên bản",
      unknown: "không rõ",
      retire_title: "Cho ngừng sử dụng điểm này?",
      retire_text: "Điểm vẫn được giữ trong lịch sử, không bị xóa.",
      retired_done: "Đã cho ngừng sử dụng (phiên bản {version}).",
      history_empty: "Chưa có lịch sử.",
      history_item: "Phiên bản {version} · {action} · {author} · {time}",
      action_create: "tạo mới",
      action_update: "sửa",
      action_retire: "ngừng sử dụng",
      action_restore: "khôi phục",
      action_approve: "phê duyệt",
      action_reject: "từ chối",
      action_import: "nhập dữ liệu",
      action_revert: "hoàn tác",
      geometry_moved: "vị trí đã di chuyển",
      changeset: "Bộ thay đổi {id}",
      proposals: "Đề xuất chờ duyệt",
      proposals_empty: "Không có đề xuất nào.",
      refresh: "Tải lại",
      approve: "Phê duyệt",
      reject: "Từ chối",
      show: "Xem",
      approved: "Đã phê duyệt {key}.",
      rejected: "Đã từ chối {key}.",
      pm_draw_marker: "Thêm điểm",
      pm_drag: "Kéo điểm",
      pm_remove: "Cho ngừng sử dụng điểm",
      pm_place_marker: "Nhấn vào bản đồ để đặt điểm",
      pm_finish: "Xong",
      layer_proposed: "Đề xuất (chờ duyệt)",
    },
    en: {
      title: "Hoa Binh digital addresses",
      panel_toggle: "Panel",
      search_label: "Search addresses",
      search_placeholder: "Search an address, village, commune…",
      suggestions: "Suggestions",
      no_match: "Nothing found",
      results: "Results",
      goto_code: "Go to code",
      code_placeholder: "8VG-DHS-6HB or 1000-000-005",
      go: "Go",
      layers: "Map layers",
      click_hint: "Click the map to see the address and codes of that point.",
      api_docs: "API documentation",
      map: "Map",
      from_zoom: "from zoom {z}",
      layer_units: "Communes and wards (since 1 July 2025)",
      layer_units_2024: "Districts and communes before 1 July 2025",
      layer_villages: "Villages (thôn, xóm, bản)",
      layer_places: "Places",
      layer_addresses: "Addresses",
      layer_grid: "Location-code grid",
      layer_osm: "OpenStreetMap background (online)",
      location_code: "Location code",
      registry_code: "Registry code",
      current_unit: "Current unit",
      old_units: "Before 1 July 2025",
      plate: "Address plate",
      nearest_address: "Nearest address",
      metres_away: "{m} m away",
      no_address: "No registered address here yet.",
      nothing_here: "No data at this point.",
      loading: "Loading…",
      error: "Error",
      code_found: "Found code {code}.",
      code_not_found: "No address or cell has the code {code}.",
      retired: "Retired address",
      type_street: "street or hamlet",
      type_village: "village",
      type_commune: "commune / ward",
      type_district: "district",
      type_province: "province",
      type_place: "place",
      type_address: "address",
      type_point: "code cell",
      before_2025: "before 2025",
      approximate: "Approximate position",
      your_file: "Your file",
      file_hint: "Drop a CSV (the batch geocoding output, with lon and lat columns) or a GeoJSON file on the map, or choose one:",
      file_choose: "Choose a CSV or GeoJSON file",
      file_loaded: "{n} points from {name}",
      file_skipped: "; {m} rows without coordinates",
      file_error: "Cannot read {name}: {message}",
      file_no_columns: "no lon/lat columns",
      file_no_points: "no points in it",
      file_remove: "Remove file",
      row: "Row",
      // the editor (editor.js)
      staff_login: "Staff log-in",
      username: "User name",
      password: "Password",
      log_in: "Log in",
      log_out: "Log out",
      logged_in: "Logged in: {name}",
      role_viewer: "viewer",
      role_editor: "editor",
      role_approver: "approver",
      role_admin: "administrator",
      editing: "Editing",
      new_kind: "Kind of new point",
      dataset_addresses: "Address",
      dataset_villages: "Village (thôn, xóm, bản)",
      dataset_places: "Place",
      edit_hint: "Use the tools on the map to add, drag or retire a point; click a point and choose Edit.",
      no_edit_rights: "This account may read, not edit.",
      field_house_number: "House number",
      field_alley: "Alley (ngõ, ngách)",
      field_street: "Street",
      field_village_name: "Village",
      field_name: "Name",
      field_village_type: "Type (thôn, xóm, bản…)",
      field_category: "Category",
      field_kind: "Kind",
      comment: "Change comment",
      confirm_duplicate: "I confirm this is not a duplicate address",
      save: "Save",
      retire: "Retire",
      history: "History",
      close: "Close",
      cancel: "Cancel",
      edit_addresses: "Edit address",
      edit_villages: "Edit village",
      edit_places: "Edit place",
      new_feature: "New point: {kind}",
      feature_title: "{kind} {key}",
      feature_status: "Status: {status} · version {version}",
      status_proposed: "proposed (awaiting approval)",
      status_active: "active",
      status_retired: "retired",
      status_rejected: "rejected",
      moved_to: "New position (not saved): {lat}, {lon}",
      saved: "Saved version {version}.",
      created: "Created {key} ({status}).",
      new_location_code: "New location code",
      required: "{field}: required.",
      nothing_changed: "Nothing changed.",
      saving: "Saving…",
      conflict_title: "Edit conflict",
      conflict_text: "Someone else changed this point after you opened it (it is now version {version}). Compare both:",
      their_version: "Their version",
      your_version: "Your changes",
      reapply_mine: "Reapply mine on top",
      keep_theirs: "Keep theirs",
      position: "Position",
      status: "Status",
      version: "Version",
      unknown: "unknown",
      retire_title: "Retire this point?",
      retire_text: "The point is kept in the history, never deleted.",
      retired_done: "Retired (version {version}).",
      history_empty: "No history yet.",
      history_item: "Version {version} · {action} · {author} · {time}",
      action_create: "created",
      action_update: "changed",
      action_retire: "retired",
      action_restore: "restored",
      action_approve: "approved",
      action_reject: "rejected",
      action_import: "imported",
      action_revert: "reverted",
      geometry_moved: "position moved",
      changeset: "Changeset {id}",
      proposals: "Proposals to review",
      proposals_empty: "No proposals.",
      refresh: "Refresh",
      approve: "Approve",
      reject: "Reject",
      show: "Show",
      approved: "Approved {key}.",
      rejected: "Rejected {key}.",
      pm_draw_marker: "Add a point",
      pm_drag: "Drag points",
      pm_remove: "Retire a point",
      pm_place_marker: "Click the map to place the point",
      pm_finish: "Finish",
      layer_proposed: "Proposed (awaiting approval)",
    },
  };

  const state = {
    lang: localStorage.getItem("diachiso.lang") === "en" ? "en" : "vi",
    layers: [], // {id, minzoom, maxzoom, layer, checkbox, item}
  };

  function t(key, values = {}) {
    const text = WORDS[state.lang][key] ?? WORDS.vi[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  }

  function translatePage() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
    for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
      el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
    }
    for (const button of document.querySelectorAll("#lang-switch button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
  }

  function setLanguage(lang) {
    state.lang = lang;
    localStorage.setItem("diachiso.lang", lang);
    translatePage();
    renderLegend();
    document.dispatchEvent(new CustomEvent("diachiso:language", { detail: { lang } }));
  }

  /* ============================================================ small helpers */

  function escapeHtml(value) {
    return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  function formatRegistryCode(code) {
    const digits = String(code).replace(/\D/g, "");
    return digits.length === 10 ? `${digits.slice(0, 4)}-${digits.slice(4, 7)}-${digits.slice(7)}` : code;
  }

  /** GET a JSON document; an error answer throws with the API's one-line message. */
  async function getJSON(url, options = {}) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, ...options });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
      throw Object.assign(new Error(message), { status: response.status });
    }
    return body;
  }

  function query(path, params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    return `${path}?${search}`;
  }

  /* ============================================================ the map */

  const PROVINCE_BOUNDS = L.latLngBounds([20.3, 104.83], [21.12, 105.87]);

  const map = L.map("map", {
    minZoom: 6,
    maxZoom: 21,
    zoomControl: true,
    worldCopyJump: false,
    maxBounds: PROVINCE_BOUNDS.pad(3),
  }).fitBounds(PROVINCE_BOUNDS);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  L.control.scale({ imperial: false }).addTo(map);

  const osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 21,
    maxNativeZoom: 19,
    attribution: '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    opacity: 0.75,
  });

  /* ============================================================ vector tile styles */

  const GEOM_POINT = 1;
  const GEOM_POLYGON = 3;
  const isPoint = (z, f) => f.geomType === GEOM_POINT;
  const isPolygon = (z, f) => f.geomType === GEOM_POLYGON;
  const FONT = '"Noto Sans", "DejaVu Sans", sans-serif';
  const halo = { stroke: "#ffffff", width: 2 };

  /** The centroid of the largest ring of a polygon, in the tile's pixel space. */
  function largestRingCentroid(rings) {
    let best = null;
    let bestArea = 0;
    for (const ring of rings) {
      let area = 0;
      let cx = 0;
      let cy = 0;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
        const cross = ring[j].x * ring[i].y - ring[i].x * ring[j].y;
        area += cross;
        cx += (ring[j].x + ring[i].x) * cross;
        cy += (ring[j].y + ring[i].y) * cross;
      }
      if (Math.abs(area) > bestArea && area !== 0) {
        bestArea = Math.abs(area);
        best = { x: cx / (3 * area), y: cy / (3 * area) };
      }
    }
    return best;
  }

  /** Labels a polygon at its centroid once per `distance` pixels (tiles cut polygons into pieces). */
  class PolygonLabel {
    constructor(options, distance = 1000) {
      this.inner = new protomapsL.CenteredTextSymbolizer(options);
      this.distance = distance;
    }

    place(layout, geom, feature) {
      const centre = largestRingCentroid(geom);
      if (!centre) return undefined;
      const anchor = Object.assign(Object.create(Object.getPrototypeOf(geom[0][0])), centre);
      const labels = this.inner.place(layout, [[anchor]], feature);
      for (const label of labels ?? []) {
        label.deduplicationKey = String(feature.props.code ?? feature.props.name);
        label.deduplicationDistance = this.distance;
      }
      return labels;
    }
  }

  /** Proposed rows (shown to staff only) drawn over their layer's dots: amber, ringed, so they stand apart. */
  function proposedRule(dataLayer) {
    return {
      dataLayer,
      filter: (z, f) => f.props.status === "proposed",
      symbolizer: new protomapsL.CircleSymbolizer({ radius: 5, fill: "#ffb300", stroke: "#6d4c00", width: 1.5 }),
    };
  }

  function pointLabel(options) {
    return new protomapsL.OffsetTextSymbolizer({ offsetX: 6, offsetY: 4, fontFamily: FONT, ...halo, ...options });
  }

  /** A layer of white-ringed dots (swatch in the same colour), proposed rows over them, labels from ``minzoom``. */
  function pointLayer(dataLayer, dot, label) {
    return {
      swatch: { kind: "point", fill: dot.fill },
      paint: [
        { dataLayer, symbolizer: new protomapsL.CircleSymbolizer({ stroke: "#ffffff", ...dot }) },
        proposedRule(dataLayer),
      ],
      labels: [{ dataLayer, minzoom: label.minzoom, symbolizer: pointLabel(label.text) }],
    };
  }

  /** Paint and label rules per tile layer, and how its legend swatch looks. */
  const STYLES = {
    units: {
      swatch: { kind: "polygon", fill: "#f7f3e8", stroke: "#8c7b6b" },
      paint: [
        {
          dataLayer: "units",
          // the plain offline background; almost clear over the OpenStreetMap layer when that is on
          symbolizer: new protomapsL.PolygonSymbolizer({ fill: "#f7f3e8", opacity: () => (map.hasLayer(osm) ? 0.1 : 1) }),
        },
        {
          dataLayer: "units",
          symbolizer: new protomapsL.LineSymbolizer({ color: "#8c7b6b", width: (z) => (z < 10 ? 0.7 : 1.3) }),
        },
      ],
      labels: [
        {
          dataLayer: "units",
          minzoom: 10,
          symbolizer: new PolygonLabel({
            labelProps: (z) => (z >= 12 ? ["full_name", "name"] : ["name"]),
            fill: "#5b4a39",
            fontFamily: FONT,
            fontWeight: 600,
            fontSize: (z) => (z >= 13 ? 14 : 12),
            ...halo,
          }),
        },
      ],
    },
    units_2024: {
      swatch: { kind: "dashed", stroke: "#b0413e" },
      paint: [
        {
          dataLayer: "units_2024",
          filter: isPolygon,
          symbolizer: new protomapsL.LineSymbolizer({ color: "#b0413e", width: 1.6, dash: [5, 4] }),
        },
        {
          dataLayer: "units_2024",
          filter: isPoint,
          minzoom: 10,
          symbolizer: new protomapsL.CircleSymbolizer({ radius: 3, fill: "#ffffff", stroke: "#b0413e", width: 1.5 }),
        },
      ],
      labels: [
        {
          dataLayer: "units_2024",
          filter: isPoint,
          minzoom: 11,
          symbolizer: pointLabel({ labelProps: ["full_name"], fill: "#b0413e", fontStyle: "italic", fontSize: 12 }),
        },
        {
          dataLayer: "units_2024",
          filter: isPolygon,
          maxzoom: 10,
          symbolizer: new PolygonLabel({ labelProps: ["full_name"], fill: "#b0413e", fontFamily: FONT, fontSize: 12, ...halo }),
        },
      ],
    },
    villages: pointLayer(
      "villages",
      { radius: (z) => (z < 12 ? 2.5 : 4), fill: "#2e7d32", width: 1 },
      { minzoom: 12, text: { fill: "#1f5a23", fontSize: 12, fontWeight: 600 } },
    ),
    places: pointLayer(
      "places",
      { radius: 3.5, fill: "#7b1fa2", width: 1 },
      { minzoom: 15, text: { fill: "#5a1577", fontSize: 11 } },
    ),
    addresses: pointLayer(
      "addresses",
      { radius: 4, fill: "#d84315", width: 1.2 },
      { minzoom: 17, text: { labelProps: ["house_number"], fill: "#8a2a0c", fontSize: 11, fontWeight: 700 } },
    ),
  };

  const DEFAULT_ON = new Set(["units", "villages", "places", "addresses", "grid"]);
  const PANE_ORDER = ["units", "units_2024", "villages", "places", "addresses"];

  /** One protomaps-leaflet layer for one tile layer of the server (TileJSON from /tiles). */
  function vectorLayer(info, style) {
    const pane = `tiles-${info.id}`;
    if (!map.getPane(pane)) {
      map.createPane(pane).style.zIndex = String(300 + PANE_ORDER.indexOf(info.id) * 10);
    }
    return protomapsL.leafletLayer({
      url: info.tiles,
      maxDataZoom: info.maxzoom,
      levelDiff: 0, // one tile request per displayed tile: the layer's zooms mean what TileJSON says
      minZoom: info.minzoom,
      maxZoom: 21,
      pane,
      paintRules: style.paint,
      labelRules: style.labels,
      attribution: escapeHtml(info.attribution ?? ""),
      bounds: PROVINCE_BOUNDS.pad(0.2),
    });
  }

  async function loadTileLayers() {
    const summaries = await getJSON("/tiles");
    const documents = await Promise.all(
      summaries.map((s) => getJSON(s.tilejson).catch(() => ({ attribution: "" }))),
    );
    summaries.forEach((summary, i) => {
      const style = STYLES[summary.id];
      if (!style) return;
      const info = { ...summary, attribution: documents[i].attribution };
      const layer = vectorLayer(info, style);
      state.layers.push({ id: summary.id, minzoom: summary.minzoom, layer, swatch: style.swatch });
      if (DEFAULT_ON.has(summary.id)) layer.addTo(map);
    });
  }

  map.on("layeradd layerremove", (event) => {
    if (event.layer !== osm) return;
    for (const entry of state.layers) entry.layer.rerenderTiles?.();
  });

  /* ============================================================ location-code grid (z >= 17) */

  const GRID_MIN_ZOOM = 17;
  const gridLayer = L.layerGroup();
  const gridStyle = { color: "#0b6e8a", weight: 1, opacity: 0.6, interactive: false };

  /** Cells drawn at a zoom: 6-character cells (about 60 m) from 17, full 8-character cells (about 2 m) from 21. */
  function gridLengthFor(zoom) {
    return zoom >= 21 ? 8 : 6;
  }

  /** The grid as lines: one per cell edge across the view (far fewer shapes than one box per cell). */
  function drawGridLines(cells, view) {
    const lons = new Set(cells.flatMap((c) => [c.bounds[0], c.bounds[2]]));
    const lats = new Set(cells.flatMap((c) => [c.bounds[1], c.bounds[3]]));
    const [south, north, west, east] = [view.getSouth(), view.getNorth(), view.getWest(), view.getEast()];
    for (const lon of lons) gridLayer.addLayer(L.polyline([[south, lon], [north, lon]], gridStyle));
    for (const lat of lats) gridLayer.addLayer(L.polyline([[lat, west], [lat, east]], gridStyle));
  }

  function drawGridLabels(cells) {
    for (const cell of cells) {
      const [west, south, east, north] = cell.bounds;
      const bounds = L.latLngBounds([south, west], [north, east]);
      const size = map.latLngToContainerPoint(bounds.getNorthEast()).subtract(
        map.latLngToContainerPoint(bounds.getSouthWest()),
      );
      if (Math.abs(size.x) < 70 || Math.abs(size.y) < 18) return; // all cells of a view are alike
      const icon = L.divIcon({ className: "grid-label", html: escapeHtml(Grid.format(cell.code)), iconSize: [Math.abs(size.x), 16] });
      gridLayer.addLayer(L.marker(bounds.getCenter(), { icon, interactive: false, keyboard: false }));
    }
  }

  function drawGrid() {
    gridLayer.clearLayers();
    if (!map.hasLayer(gridLayer) || map.getZoom() < GRID_MIN_ZOOM) return;
    const view = map.getBounds();
    const length = gridLengthFor(map.getZoom());
    const cells = Grid.cover(view.getWest(), view.getSouth(), view.getEast(), view.getNorth(), length, 4000);
    drawGridLines(cells, view);
    drawGridLabels(cells);
  }

  map.on("moveend zoomend", drawGrid);

  /* ============================================================ legend = layer switcher */

  function legendItem(id, label, swatch, minzoom, layer) {
    const item = document.createElement("li");
    const field = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = map.hasLayer(layer);
    box.dataset.layer = id;
    box.addEventListener("change", () => {
      if (box.checked) layer.addTo(map);
      else map.removeLayer(layer);
      drawGrid();
    });
    const mark = document.createElement("span");
    mark.className = `swatch ${swatch.kind}`;
    if (swatch.fill) mark.style.background = swatch.fill;
    if (swatch.stroke) mark.style.borderColor = swatch.stroke;
    const text = document.createElement("span");
    text.textContent = label;
    field.append(box, mark, text);
    item.append(field);
    if (minzoom) {
      const hint = document.createElement("span");
      hint.className = "zoom-hint";
      hint.textContent = t("from_zoom", { z: minzoom });
      item.append(hint);
      item.classList.toggle("out-of-zoom", map.getZoom() < minzoom);
    }
    return item;
  }

  function renderLegend() {
    const list = document.getElementById("layer-list");
    list.replaceChildren(
      ...state.layers.map((l) => legendItem(l.id, t(`layer_${l.id}`), l.swatch, l.minzoom, l.layer)),
      legendItem("grid", t("layer_grid"), { kind: "grid" }, GRID_MIN_ZOOM, gridLayer),
      legendItem("osm", t("layer_osm"), { kind: "raster" }, 0, osm),
    );
  }

  map.on("zoomend", renderLegend);

  /* ============================================================ popups */

  function unitLine(unit) {
    if (!unit) return "";
    const code = unit.code ? ` <span class="kind">(${escapeHtml(unit.code)})</span>` : "";
    return `${escapeHtml(unit.full_name ?? unit.name)}${code}`;
  }

  function codeRows(geocoding) {
    let html = "";
    if (geocoding.location_code) {
      html += `<dt>${t("location_code")}</dt><dd class="code" data-code="location">${escapeHtml(
        Grid.format(geocoding.location_code),
      )}</dd>`;
    }
    if (geocoding.registry_code) {
      const code = escapeHtml(geocoding.registry_code);
      html += `<dt>${t("registry_code")}</dt><dd><span class="code" data-code="registry">${escapeHtml(
        formatRegistryCode(geocoding.registry_code),
      )}</span> · <a href="/addresses/${code}/plate.svg" target="_blank" rel="noopener">${t("plate")}</a></dd>`;
    }
    return html;
  }

  function unitRows(geocoding) {
    let html = "";
    if (geocoding.current_unit) html += `<dt>${t("current_unit")}</dt><dd>${unitLine(geocoding.current_unit)}</dd>`;
    const old = geocoding.old_units ?? [];
    if (old.length) {
      html += `<dt>${t("old_units")}</dt><dd><ul>${old.map((u) => `<li>${unitLine(u)}</li>`).join("")}</ul></dd>`;
    }
    return html;
  }

  /**
   * What the viewer reads of a GeocodeJSON feature: the spec's `geocoding` member and diachiso's own
   * (`diachiso`: codes, units, score), with `type` the finer match level (address, village...).
   */
  function details(feature) {
    const { geocoding = {}, diachiso = {} } = feature.properties;
    return { ...geocoding, ...diachiso, type: diachiso.match_level ?? geocoding.type };
  }

  /** The popup body of one GeocodeJSON feature (the same for search, reverse and codes). */
  function placeHtml(feature, extra = "", role = "found") {
    const g = details(feature);
    const kind = g.type ? `<span class="kind">${escapeHtml(kindText(g))}</span>` : "";
    const refs = `data-ref="${escapeHtml(g.ref ?? "")}" data-village-ref="${escapeHtml(g.village?.ref ?? "")}"`;
    const keys = `data-registry-code="${escapeHtml(g.registry_code ?? "")}" ${refs}`;
    let html = `<div class="place-popup" data-role="${role}" ${keys}><h3>${escapeHtml(g.label ?? g.name)}</h3>${kind}<dl>`;
    html += codeRows(g) + unitRows(g);
    if (g.address) {
      const name = g.address.name ? `${escapeHtml(g.address.name)} · ` : "";
      html += `<dt>${t("nearest_address")}</dt><dd>${name}${t("metres_away", { m: Math.round(g.address.distance_m) })}</dd>`;
    }
    html += "</dl>";
    if (g.point_precision && g.point_precision !== "exact") {
      html += `<p class="note" title="${escapeHtml(g.point_precision)}">${t("approximate")}</p>`;
    }
    if (g.note) html += `<p class="note">${escapeHtml(g.note)}</p>`;
    html += `${extra}</div>`;
    return html;
  }

  /* ============================================================ reverse geocoding on click */

  const clickedCell = L.rectangle([[0, 0], [0, 0]], { color: "#d84315", weight: 2, fillOpacity: 0.15, interactive: false });
  let reverseAbort = null;

  /** Outline a location-code cell on the map (the 2 m cell of a click, the cell of a typed code). */
  function outlineCell(layer, cell) {
    if (!cell) return null;
    const [west, south, east, north] = cell.bounds;
    const bounds = L.latLngBounds([south, west], [north, east]);
    layer.setBounds(bounds).addTo(map);
    return bounds;
  }

  async function reverseAt(latlng) {
    reverseAbort?.abort();
    reverseAbort = new AbortController();
    const popup = L.popup({ maxWidth: 340 }).setLatLng(latlng).setContent(t("loading")).openOn(map);
    window.diachiso.lastClick = { lng: latlng.lng, lat: latlng.lat };
    outlineCell(clickedCell, Grid.cellAt(latlng.lng, latlng.lat));
    const url = query("/reverse", { lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7), lang: state.lang });
    try {
      const collection = await getJSON(url, { signal: reverseAbort.signal });
      const feature = collection.features[0];
      const note = feature && details(feature).registry_code ? "" : `<p class="note">${t("no_address")}</p>`;
      popup.setContent(feature ? placeHtml(feature, note, "reverse") : `<p>${t("nothing_here")}</p>`);
    } catch (error) {
      if (error.name !== "AbortError") popup.setContent(`<p class="message error">${escapeHtml(error.message)}</p>`);
    }
  }

  /** Whether a Leaflet-Geoman tool (the editor's add, drag, retire) is on or a point is being dragged: a click then belongs to it. */
  function drawingToolOn() {
    const pm = map.pm;
    const tool = pm && (pm.globalDrawModeEnabled() || pm.globalDragModeEnabled() || pm.globalRemovalModeEnabled());
    return Boolean(tool || window.diachiso.editor?.dragging());
  }

  map.on("click", (event) => {
    if (!drawingToolOn()) reverseAt(event.latlng);
  });

  /* ============================================================ showing a found feature */

  const ZOOM_FOR_TYPE = { point: 19, address: 19, street: 17, place: 18, village: 16, commune: 13, district: 11, province: 9 };
  const foundMarker = L.circleMarker([0, 0], {
    radius: 9,
    color: "#ffffff",
    weight: 3,
    fillColor: "#0b6e8a",
    fillOpacity: 1,
    interactive: false, // a click on it reaches the map: reverse geocoding of that very point
  });

  const isPhone = () => window.matchMedia("(max-width: 700px)").matches;

  function showFeature(feature, extra = "") {
    if (isPhone()) setPanel(false); // the map, not the panel, shows what was found
    const [lon, lat] = feature.geometry.coordinates;
    const zoom = ZOOM_FOR_TYPE[details(feature).type] ?? 17;
    map.setView([lat, lon], zoom, { animate: false });
    foundMarker.setLatLng([lat, lon]).addTo(map);
    L.popup({ maxWidth: 340, offset: [0, -6] }).setLatLng([lat, lon]).setContent(placeHtml(feature, extra)).openOn(map);
  }

  /* ============================================================ search with autocomplete */

  const input = document.getElementById("search-input");
  const listbox = document.getElementById("search-suggestions");
  const search = { features: [], active: -1, abort: null, seq: 0 };

  function kindText(g) {
    const kind = g.type ? t(`type_${g.type}`) : "";
    return String(g.kind ?? "").startsWith("old_") ? `${kind}, ${t("before_2025")}` : kind;
  }

  function suggestionText(feature) {
    const g = details(feature);
    return { label: g.label ?? g.name, kind: kindText(g) };
  }

  function closeSuggestions() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    search.active = -1;
  }

  function renderSuggestions(features) {
    search.features = features;
    search.active = -1;
    if (!features.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = t("no_match");
      listbox.replaceChildren(empty);
    } else {
      listbox.replaceChildren(
        ...features.map((feature, i) => {
          const { label, kind } = suggestionText(feature);
          const item = document.createElement("li");
          item.id = `suggestion-${i}`;
          item.setAttribute("role", "option");
          item.setAttribute("aria-selected", "false");
          item.innerHTML = `${escapeHtml(label)} <span class="kind">${escapeHtml(kind)}</span>`;
          item.addEventListener("mousedown", (event) => {
            event.preventDefault(); // keep the focus in the input
            pick(i);
          });
          return item;
        }),
      );
    }
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function setActive(index) {
    const items = listbox.querySelectorAll("[role=option]");
    if (!items.length) return;
    search.active = (index + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === search.active)));
    const active = items[search.active];
    input.setAttribute("aria-activedescendant", active.id);
    active.scrollIntoView({ block: "nearest" });
  }

  function pick(index) {
    const feature = search.features[index];
    if (!feature) return;
    input.value = suggestionText(feature).label;
    closeSuggestions();
    showFeature(feature);
  }

  async function fetchFeatures(path, text, limit) {
    search.abort?.abort();
    search.abort = new AbortController();
    const seq = ++search.seq;
    const center = map.getCenter();
    const params = { q: text, limit, lang: state.lang };
    if (path === "/search" && map.getZoom() >= 12) Object.assign(params, { lat: center.lat.toFixed(5), lon: center.lng.toFixed(5) });
    const collection = await getJSON(query(path, params), { signal: search.abort.signal });
    return seq === search.seq ? collection.features : null;
  }

  const autocomplete = debounce(async () => {
    const text = input.value.trim();
    if (text.length < 2) return closeSuggestions();
    try {
      const features = await fetchFeatures("/autocomplete", text, 8);
      if (features) renderSuggestions(features);
    } catch (error) {
      if (error.name !== "AbortError") closeSuggestions();
    }
  }, 200);

  function renderResults(features) {
    const section = document.getElementById("results-section");
    const list = document.getElementById("results");
    list.replaceChildren(
      ...features.map((feature) => {
        const { label, kind } = suggestionText(feature);
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.addEventListener("click", () => showFeature(feature));
        const note = document.createElement("span");
        note.className = "kind";
        note.textContent = ` ${kind}`;
        item.append(button, note);
        return item;
      }),
    );
    section.hidden = false;
  }

  async function fullSearch() {
    const text = input.value.trim();
    if (!text) return;
    closeSuggestions();
    try {
      const features = await fetchFeatures("/search", text, 10);
      if (!features) return;
      renderResults(features);
      if (features.length) showFeature(features[0]);
      else renderSuggestions([]);
    } catch (error) {
      if (error.name !== "AbortError") renderSuggestions([]);
    }
  }

  input.addEventListener("input", autocomplete);
  input.addEventListener("keydown", (event) => {
    const open = !listbox.hidden;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (open) setActive(search.active + 1);
      else autocomplete();
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      setActive(search.active - 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (open && search.active >= 0) pick(search.active);
      else fullSearch();
    } else if (event.key === "Escape") {
      closeSuggestions();
    }
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 150));
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    fullSearch();
  });

  /* ============================================================ go to code */

  const codeCell = L.rectangle([[0, 0], [0, 0]], { color: "#0b6e8a", weight: 2, fillOpacity: 0.12, interactive: false });

  /** An address Feature of /codes (or /addresses) as the GeocodeJSON feature the popups show. */
  function addressPlace(feature) {
    const p = feature.properties;
    const unit = (u, level, levelName) => (u ? { ...u, level, level_name: levelName } : null);
    const geocoding = { type: "house", label: p.label, name: p.label };
    const diachiso = {
      match_level: "address",
      kind: "address",
      location_code: p.location_code,
      location_code_display: p.location_code_display,
      registry_code: p.registry_code,
      registry_code_display: p.registry_code_display,
      current_unit: unit(p.commune, 3, "commune"),
      old_units: [unit(p.old_commune, 3, "commune"), unit(p.old_district, 2, "district")].filter(Boolean),
      point_precision: "exact",
    };
    return { type: "Feature", geometry: feature.geometry, properties: { geocoding, diachiso } };
  }

  /** A registry code: fly to its address, or to the address in force when it is retired, and open its popup. */
  function showRegistryCode(answer) {
    const current = answer.successor ?? answer.address;
    const note = answer.retired ? `<p class="note">${t("retired")}: ${escapeHtml(answer.display)}</p>` : "";
    showFeature(addressPlace(current), note);
    outlineCell(codeCell, Grid.decode(current.properties.location_code));
  }

  /** A location code: fly to its cell and outline it. */
  function showLocationCode(answer) {
    if (isPhone()) setPanel(false);
    map.closePopup();
    foundMarker.remove();
    const bounds = outlineCell(codeCell, answer.cell);
    map.fitBounds(bounds, { maxZoom: 19, animate: false });
  }

  /** Look a location or registry code up (GET /codes/{code}) and show the cell or the address. */
  async function goToCode(event) {
    event.preventDefault();
    const text = document.getElementById("code-input").value.trim();
    if (!text) return;
    const url = new URL(window.location.href);
    url.searchParams.set("code", text);
    window.history.replaceState(null, "", url); // the page's URL now opens on this code (a link to share)
    await lookUpCode(text);
  }

  /** Show a code: fly to its address or cell; the panel's message says what was found. */
  async function lookUpCode(text) {
    const message = document.getElementById("code-message");
    message.className = "message";
    message.textContent = t("loading");
    try {
      const answer = await getJSON(`/codes/${encodeURIComponent(text)}`);
      if (answer.kind === "registry") showRegistryCode(answer);
      else showLocationCode(answer);
      message.textContent = t("code_found", { code: answer.display });
    } catch (error) {
      message.className = "message error";
      message.textContent = error.status === 404 ? t("code_not_found", { code: text }) : error.message;
    }
  }

  document.getElementById("code-form").addEventListener("submit", goToCode);

  /** /?code=... (the URL of a plate's QR code) opens the viewer on that code. */
  function openCodeOfUrl() {
    const code = new URLSearchParams(window.location.search).get("code")?.trim();
    if (!code) return null;
    document.getElementById("code-input").value = code;
    return lookUpCode(code);
  }

  /* ============================================================ your own file: CSV or GeoJSON */

  const LON_COLUMNS = ["lon_geocoded", "lon", "lng", "longitude", "long", "x", "kinh_do"];
  const LAT_COLUMNS = ["lat_geocoded", "lat", "latitude", "y", "vi_do"];
  const userPoints = L.featureGroup();
  const userStyle = { radius: 6, color: "#ffffff", weight: 1.5, fillColor: "#e65100", fillOpacity: 0.9, className: "user-point" };

  /** Rows of a CSV text (RFC 4180: quoted cells may hold the delimiter, quotes and line breaks). */
  function parseCsv(text, delimiter) {
    const rows = [];
    let row = [];
    let cell = "";
    let quoted = false;
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          cell += '"';
          i += 1;
        } else if (c === '"') quoted = false;
        else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === delimiter) {
        row.push(cell);
        cell = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i += 1;
        row.push(cell);
        rows.push(row);
        row = [];
        cell = "";
      } else cell += c;
    }
    if (cell !== "" || row.length) rows.push([...row, cell]);
    return rows.filter((r) => r.length > 1 || r[0] !== "");
  }

  /** The delimiter of a CSV: the most frequent of comma, semicolon, tab and pipe in its first line. */
  function sniffDelimiter(text) {
    const first = text.split("\n", 1)[0];
    return [",", ";", "\t", "|"].reduce((best, d) => (first.split(d).length > first.split(best).length ? d : best), ",");
  }

  function findColumn(header, names) {
    const lowered = header.map((h) => h.trim().toLowerCase());
    for (const name of names) {
      const at = lowered.indexOf(name);
      if (at >= 0) return at;
    }
    return -1;
  }

  /** A CSV as GeoJSON points (rows without a readable lon/lat are counted, not shown). */
  function csvFeatures(text) {
    const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""), sniffDelimiter(text));
    const lon = findColumn(header ?? [], LON_COLUMNS);
    const lat = findColumn(header ?? [], LAT_COLUMNS);
    if (lon < 0 || lat < 0) throw new Error(t("file_no_columns"));
    const features = [];
    let skipped = 0;
    rows.forEach((cells, i) => {
      const x = Number.parseFloat(String(cells[lon] ?? "").replace(",", "."));
      const y = Number.parseFloat(String(cells[lat] ?? "").replace(",", "."));
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        skipped += 1;
        return;
      }
      const properties = { [t("row")]: i + 1 };
      header.forEach((name, j) => (properties[name] = cells[j] ?? ""));
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [x, y] }, properties });
    });
    return { features, skipped };
  }

  /** A popup listing a feature's fields (nested values as JSON). */
  function fieldsHtml(properties) {
    const title = properties.label ?? properties.name ?? "";
    let html = `<div class="place-popup user-popup">${title ? `<h3>${escapeHtml(title)}</h3>` : ""}<dl>`;
    for (const [name, value] of Object.entries(properties ?? {})) {
      const text = value !== null && typeof value === "object" ? JSON.stringify(value) : value;
      html += `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(text)}</dd>`;
    }
    return `${html}</dl></div>`;
  }

  function showUserFeatures(features, name, skipped) {
    userPoints.clearLayers();
    L.geoJSON({ type: "FeatureCollection", features }, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, userStyle),
      // GeoJSON styles every layer (points too) before it is drawn: points keep their own look and class
      style: (feature) => (/Point$/.test(feature.geometry.type) ? userStyle : { color: "#e65100", weight: 2, className: "user-shape" }),
      onEachFeature: (feature, layer) => layer.bindPopup(() => fieldsHtml(feature.properties), { maxWidth: 360 }),
    }).eachLayer((layer) => userPoints.addLayer(layer));
    if (!userPoints.getLayers().length) throw new Error(t("file_no_points"));
    userPoints.addTo(map);
    map.fitBounds(userPoints.getBounds(), { maxZoom: 17, padding: [20, 20], animate: false });
    const message = document.getElementById("file-message");
    message.className = "message";
    message.textContent = t("file_loaded", { n: userPoints.getLayers().length, name }) + (skipped ? t("file_skipped", { m: skipped }) : "");
    document.getElementById("file-remove").hidden = false;
  }

  /** Read a dropped or chosen file: GeoJSON by its name or content, else CSV. */
  async function loadUserFile(file) {
    const message = document.getElementById("file-message");
    try {
      const text = await file.text();
      const isJson = /\.(geo)?json$/i.test(file.name) || /^\s*\{/.test(text);
      if (isJson) {
        const data = JSON.parse(text);
        const features = data.type === "FeatureCollection" ? data.features : [data.type === "Feature" ? data : { type: "Feature", geometry: data, properties: {} }];
        showUserFeatures(features.filter((f) => f && f.geometry), file.name, features.filter((f) => !f?.geometry).length);
      } else {
        const { features, skipped } = csvFeatures(text);
        showUserFeatures(features, file.name, skipped);
      }
    } catch (error) {
      message.className = "message error";
      message.textContent = t("file_error", { name: file.name, message: error.message });
    }
  }

  function removeUserFile() {
    userPoints.clearLayers().remove();
    document.getElementById("file-message").textContent = "";
    document.getElementById("file-remove").hidden = true;
    document.getElementById("file-input").value = "";
  }

  const mapElement = document.getElementById("map");
  for (const kind of ["dragenter", "dragover"]) {
    mapElement.addEventListener(kind, (event) => {
      event.preventDefault();
      mapElement.classList.add("dropping");
    });
  }
  mapElement.addEventListener("dragleave", () => mapElement.classList.remove("dropping"));
  mapElement.addEventListener("drop", (event) => {
    event.preventDefault();
    mapElement.classList.remove("dropping");
    const file = event.dataTransfer?.files?.[0];
    if (file) loadUserFile(file);
  });
  document.getElementById("file-input").addEventListener("change", (event) => {
    const file = event.target.files?.[0];
    if (file) loadUserFile(file);
  });
  document.getElementById("file-remove").addEventListener("click", removeUserFile);

  /* ============================================================ panel, language, start */

  const toggle = document.getElementById("panel-toggle");

  function setPanel(open) {
    document.body.classList.toggle("panel-collapsed", !open);
    toggle.setAttribute("aria-expanded", String(open));
    map.invalidateSize();
  }

  toggle.addEventListener("click", () => setPanel(document.body.classList.contains("panel-collapsed")));
  for (const button of document.querySelectorAll("#lang-switch button")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }

  async function start() {
    translatePage();
    if (isPhone()) setPanel(false);
    gridLayer.addTo(map);
    openCodeOfUrl();
    try {
      await loadTileLayers();
    } finally {
      renderLegend();
      drawGrid();
      document.body.dataset.ready = "true";
    }
  }

  window.diachiso = {
    map,
    showFeature,
    reverseAt,
    grid: Grid,
    lastClick: null,
    userPoints,
    // for the editor (editor.js): the one dictionary, the language, the helpers
    t,
    lang: () => state.lang,
    escapeHtml,
    formatRegistryCode,
    isPhone,
    setPanel,
  };
  start();
})();
