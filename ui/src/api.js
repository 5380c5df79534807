// The app's one way to the server: MLflow's REST API under /ajax-api/2.0/mlflow/, mltrack's
// additions under /ajax-api/2.0/mltrack/, and the artifact download routes. Every failure
// becomes an ApiError carrying MLflow's error_code and message, so pages can show what the
// server said.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const MLFLOW = '/ajax-api/2.0/mlflow/';
const MLTRACK = '/ajax-api/2.0/mltrack/';

// Query string of `params`: arrays repeat their key, undefined/null values are left out.
export function queryString(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, String(v)));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function request(method, url, body, { signal } = {}) {
  const init = { method, signal, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR', `Cannot reach the server: ${err.message}`);
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      if (!response.ok) throw new ApiError(response.status, 'HTTP_ERROR', text.slice(0, 500));
      throw new ApiError(response.status, 'BAD_RESPONSE', `The server's answer is not JSON: ${text.slice(0, 200)}`);
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.error_code ?? 'HTTP_ERROR',
                       json?.message ?? `${method} ${url} failed with HTTP ${response.status}`);
  }
  return json ?? {};
}

// MLflow REST API: api.get('runs/get', {run_id}), api.post('runs/search', {...}).
export const api = {
  get: (path, params, options) => request('GET', MLFLOW + path + queryString(params), undefined, options),
  post: (path, body, options) => request('POST', MLFLOW + path, body ?? {}, options),
  patch: (path, body, options) => request('PATCH', MLFLOW + path, body ?? {}, options),
  delete: (path, body, options) => request('DELETE', MLFLOW + path, body ?? {}, options),
};

// mltrack's own endpoints (docs/ui.md): mltrack.get('runs/columns', {experiment_ids: [...]}).
export const mltrack = {
  get: (path, params, options) => request('GET', MLTRACK + path + queryString(params), undefined, options),
  post: (path, body, options) => request('POST', MLTRACK + path, body ?? {}, options),
  url: (path, params) => MLTRACK + path + queryString(params),
};

// Where the browser downloads a run's artifact (any artifact store the run uses).
export function artifactUrl(runId, path) {
  return `/get-artifact${queryString({ run_uuid: runId, path })}`;
}

// Where the browser downloads a file of a model version's artifacts.
export function modelVersionArtifactUrl(name, version, path) {
  return `/model-versions/get-artifact${queryString({ name, version, path })}`;
}

// Fetches an artifact as text (previews); throws ApiError with the server's message.
export async function fetchArtifactText(url, { signal, maxBytes } = {}) {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const json = await response.json();
      message = json.message ?? message;
      throw new ApiError(response.status, json.error_code ?? 'HTTP_ERROR', message);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(response.status, 'HTTP_ERROR', message);
    }
  }
  const text = await response.text();
  return maxBytes && text.length > maxBytes ? text.slice(0, maxBytes) : text;
}
