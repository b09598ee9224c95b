export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: any;
  text: string;
}

export interface HttpRequestInit {
  method?: string;
  /** Sent as `Authorization: Bearer <bearer>`. */
  bearer?: string;
  headers?: Record<string, string>;
  /** Serialised as JSON (with content-type application/json) unless `rawBody` is given. */
  body?: unknown;
  /** Sent as is, with content-type application/json unless `headers` say otherwise: for malformed bodies. */
  rawBody?: string;
}

/** One real HTTP request to a running gateway, for the cases the gateway helper's publish/asUser cannot express. */
export async function httpRequest(baseUrl: string, path: string, init: HttpRequestInit = {}): Promise<HttpResponse> {
  const hasBody = init.body !== undefined || init.rawBody !== undefined;
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: {
      ...(init.bearer !== undefined && { authorization: `Bearer ${init.bearer}` }),
      ...(hasBody && { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text is the body.
  }
  return { status: response.status, headers: response.headers, body, text };
}
