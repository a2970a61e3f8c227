// The helpdesk's load scenario, run by the kit's load gate (k6) through the proxy.
// Environment (set by the kit): BASE_URL, TOKEN (bearer), VUS, DURATION (e.g. "10s"),
// RATE (requests/s: open model; unset: closed model with VUS), THRESHOLDS (JSON), RUN_ID.
// One iteration in four files a ticket; the others read one back or list a customer's.
import http from 'k6/http';
import { check } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8310';
const TOKEN = __ENV.TOKEN || '';
const VUS = parseInt(__ENV.VUS || '5', 10);
const DURATION = __ENV.DURATION || '10s';
const RATE = __ENV.RATE ? parseFloat(__ENV.RATE) : 0;
const RUN_ID = __ENV.RUN_ID || `${Date.now()}`;

const scenario = RATE > 0
  ? { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: VUS, maxVUs: VUS * 4 }
  : { executor: 'constant-vus', vus: VUS, duration: DURATION };

export const options = {
  scenarios: { helpdesk: scenario },
  thresholds: JSON.parse(__ENV.THRESHOLDS || '{"http_req_failed": ["rate<0.01"]}'),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

function headers(customer) {
  const out = { 'Content-Type': 'application/json', 'X-Customer-Id': customer };
  if (TOKEN) out.Authorization = `Bearer ${TOKEN}`;
  return out;
}

// Tickets this VU filed: what it reads back.
const mine = [];

export default function () {
  const customer = `k6-${RUN_ID}-${__VU % 10}`;
  if (__ITER % 4 === 0 || mine.length === 0) {
    const body = JSON.stringify({ customer_id: customer, subject: `load ${__VU}-${__ITER}` });
    const res = http.post(`${BASE_URL}/api/tickets`, body, { headers: headers(customer) });
    check(res, { 'filed (201)': (r) => r.status === 201 });
    if (res.status === 201) mine.push(res.json('id'));
  } else if (__ITER % 4 === 3) {
    const res = http.get(`${BASE_URL}/api/tickets?customer_id=${customer}&limit=10`,
      { headers: headers(customer) });
    check(res, { 'listed (200)': (r) => r.status === 200 });
  } else {
    const id = mine[__ITER % mine.length];
    const res = http.get(`${BASE_URL}/api/tickets/${id}`, { headers: headers(customer) });
    check(res, { 'read (200)': (r) => r.status === 200 });
  }
}
