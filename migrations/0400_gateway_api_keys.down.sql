DROP TABLE IF EXISTS gateway_api_keys;
