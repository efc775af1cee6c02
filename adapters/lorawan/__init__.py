"""LoRaWAN uplinks: network-server envelopes, device decoders and FIWARE-named readings."""
