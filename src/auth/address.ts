import { clientAddress, parseTrustedProxies, type TrustedProxies } from './client-address.js';

/** Resolves the rate-limit address of a request from its peer and X-Forwarded-For (wire §8.1). */
export class ClientAddressResolver {
  private readonly trusted: TrustedProxies;
  constructor(trustedProxies: string[]) {
    this.trusted = parseTrustedProxies(trustedProxies);
  }
  resolve(peer: string | undefined, xff: string | undefined): string | undefined {
    return clientAddress(peer, xff, this.trusted);
  }
}
