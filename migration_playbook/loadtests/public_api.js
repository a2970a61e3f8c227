// The kit's load scenario for the public API v1, run by the load gate through the proxy.
// Traffic goes to BASE_URL only (127.0.0.1), bounded by DURATION and VUS or RATE.
// Environment: BASE_URL, TOKEN (bearer, optional), VUS, DURATION (e.g. "15s"),
// RATE (requests/s: open model; unset: closed model with VUS), THRESHOLDS (JSON),
// PREDICT_SHARE (0-1, the rest ingests), RUN_ID (makes transaction ids unique per run),
// DATA_FILE (JSON list of transactions from the kit's generator: the load then has the
// production distribution, so drift monitoring does not mistake a load test for drift;
// without it, transactions are made up here).
import http from 'k6/http';
import { check } from 'k6';
import { SharedArray } from 'k6/data';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8000';
const TOKEN = __ENV.TOKEN || '';
const VUS = parseInt(__ENV.VUS || '10', 10);
const DURATION = __ENV.DURATION || '15s';
const RATE = __ENV.RATE ? parseFloat(__ENV.RATE) : 0;
const PREDICT_SHARE = parseFloat(__ENV.PREDICT_SHARE || '0.8');
const RUN_ID = __ENV.RUN_ID || `${Date.now()}`;

const scenario = RATE > 0
  ? { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: VUS, maxVUs: VUS * 4 }
  : { executor: 'constant-vus', vus: VUS, duration: DURATION };

export const options = {
  scenarios: { public_api: scenario },
  thresholds: JSON.parse(__ENV.THRESHOLDS || '{"http_req_failed": ["rate<0.01"]}'),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  noConnectionReuse: false,
  discardResponseBodies: false,
};

const HEADERS = { 'Content-Type': 'application/json' };
if (TOKEN) HEADERS.Authorization = `Bearer ${TOKEN}`;

const HOMES = [['EUR', 'DE', '+01:00'], ['USD', 'US', '-05:00'], ['GBP', 'GB', '+00:00'],
  ['JPY', 'JP', '+09:00'], ['EUR', 'FR', '+01:00']];
const MCCS = ['5411', '5812', '5814', '5541', '5311', '5912', '4111', '7995', '6051', '5732'];
const CHANNELS = ['pos', 'pos', 'pos', 'web', 'mobile', 'atm'];

function pick(items) { return items[Math.floor(Math.random() * items.length)]; }

const DATA = __ENV.DATA_FILE ? new SharedArray('transactions', () => JSON.parse(open(__ENV.DATA_FILE))) : null;

function fromData() {
  const tx = Object.assign({}, DATA[(__VU * 7919 + __ITER) % DATA.length]);
  tx.transaction_id = `k6-${RUN_ID}-${__VU}-${__ITER}`;
  return tx;
}

function transaction() {
  if (DATA) return fromData();
  const [currency, home, offset] = pick(HOMES);
  const foreign = Math.random() < 0.05;
  const hour = String(Math.floor(Math.random() * 24)).padStart(2, '0');
  const amount = Math.round((Math.exp(Math.random() * 5) + 1) * 100) / 100;
  return {
    transaction_id: `k6-${RUN_ID}-${__VU}-${__ITER}`,
    account_id: `acct-${Math.floor(Math.random() * 2000)}`,
    amount,
    currency,
    merchant_category: pick(MCCS),
    country: foreign ? pick(['TH', 'NG', 'BR', 'US']) : home,
    channel: pick(CHANNELS),
    timestamp: `2026-02-0${1 + Math.floor(Math.random() * 8)}T${hour}:15:00${offset}`,
  };
}

export default function () {
  const tx = transaction();
  const params = { headers: { ...HEADERS, 'X-Account-Id': tx.account_id } };
  if (Math.random() < PREDICT_SHARE) {
    const unlabelled = Object.assign({}, tx);
    delete unlabelled.is_fraud;
    const res = http.post(`${BASE_URL}/api/v1/predictions`, JSON.stringify(unlabelled),
      { ...params, tags: { endpoint: 'predictions' } });
    check(res, {
      'prediction 200': (r) => r.status === 200,
      'has a decision': (r) => r.status === 200 && ['approve', 'review', 'decline'].includes(r.json('decision')),
    });
  } else {
    const res = http.post(`${BASE_URL}/api/v1/transactions`, JSON.stringify(tx),
      { ...params, tags: { endpoint: 'transactions' } });
    check(res, { 'ingest 202': (r) => r.status === 202 });
  }
}
