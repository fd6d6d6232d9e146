import type { RequestHandler } from 'express';
import { HttpProblem } from './problem-details';

const requestTargetRefused = (detail: string): HttpProblem =>
  new HttpProblem({ status: 400, title: 'Bad request', slug: 'request-target-refused', detail });

/**
 * Every app sees requests in origin form (`/path?query`), whatever the client's request line said.
 *
 * A request line may also carry an absolute URL (`GET http://elsewhere:9000/v1/me HTTP/1.1`,
 * RFC 9112 §3.2.2). Left as it is, that URL reaches code that resolves "the path" against a base
 * (a proxy's upstream URL, a redirect) and replaces the base with the client's host. So: an
 * absolute target naming the host the request was sent to (its `Host` header) is rewritten to
 * origin form; one naming any other host, and the asterisk and authority forms, are refused with
 * 400. A protocol-relative `//host/...` path is refused for the same reason.
 */
export function originFormOnly(): RequestHandler {
  return (req, _res, next) => {
    const target = req.url;
    if (target.startsWith('/')) {
      if (target.startsWith('//')) {
        next(requestTargetRefused('The request path may not start with "//".'));
        return;
      }
      next();
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      next(requestTargetRefused('The request target must be a path starting with "/".'));
      return;
    }
    const host = req.headers.host?.toLowerCase();
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host !== host) {
      next(requestTargetRefused('The request target names a host this server does not serve.'));
      return;
    }
    // The path exactly as sent, not as URL normalised it: dot segments and encodings stay visible
    // to the checks after this one, as they would in an origin-form request.
    const afterAuthority = target.slice(target.indexOf('//') + 2);
    const pathStart = afterAuthority.search(/[/?#]/);
    const rest = pathStart === -1 ? '' : afterAuthority.slice(pathStart).split('#')[0]!;
    const originForm = rest.startsWith('/') ? rest : `/${rest}`;
    if (originForm.startsWith('//')) {
      next(requestTargetRefused('The request path may not start with "//".'));
      return;
    }
    req.url = originForm;
    req.originalUrl = originForm;
    next();
  };
}
