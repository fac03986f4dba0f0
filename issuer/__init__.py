"""plainclaim issuer: signing keys, issuance, and the trust authority's tools."""
