/**
 * The start of every token-bucket script: reads the bucket at KEYS[1] and refills it up to now
 * with Redis' own clock (so replica clocks do not matter). ARGV[1] is the rate per second, ARGV[2]
 * the burst; leaves `rate`, `burst`, `now` and `tokens` for the rest of the script.
 */
export const TOKEN_BUCKET_REFILL_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
`;
