import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived download links: an HMAC-SHA256 over the tenant, the export and the expiry, so a
 * link works only for that export, in that tenant (the download route signs with the caller's
 * tenant), until it expires.
 */
export interface DownloadLinkKey {
  readonly secret: string;
}

function signature(key: DownloadLinkKey, tenantId: string, exportId: string, expires: number) {
  return createHmac('sha256', key.secret)
    .update(`reporting-export\n${tenantId}\n${exportId}\n${expires}`)
    .digest('base64url');
}

export function signDownload(
  key: DownloadLinkKey,
  tenantId: string,
  exportId: string,
  expiresAt: Date,
): { expires: number; signature: string } {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return { expires, signature: signature(key, tenantId, exportId, expires) };
}

export type DownloadCheck = 'ok' | 'expired' | 'invalid';

export function checkDownload(
  key: DownloadLinkKey,
  link: { tenantId: string; exportId: string; expires: number; signature: string },
  now: Date,
): DownloadCheck {
  const expected = Buffer.from(signature(key, link.tenantId, link.exportId, link.expires));
  const given = Buffer.from(link.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return link.expires * 1000 <= now.getTime() ? 'expired' : 'ok';
}
