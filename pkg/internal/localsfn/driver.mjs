// Runs one execution of an ASL definition with aws-local-stepfunctions,
// streaming its events as they happen: for pkg/internal/localsfn (the CLI
// tests and `make demo`) and for the statemachine package's tests.
//
// Line protocol over stdin/stdout, one JSON document per line:
//   Go -> node: {"definition": {...}, "input": {...}, "context": {...},
//                "waitMillis": n | null, "retryMillis": n | null}
//   node -> Go: {"kind": "event", "type": "StateEntered", "state": ..., "stateType": ..., "input"|"output"|"error"|"cause"|"attempt"}
//   node -> Go: {"kind": "task", "state": "StartImport", "input": {...}}
//   Go -> node: {"output": {...}} or {"error": {"name": "...", "message": "..."}}
//   node -> Go: {"kind": "end", "status": "SUCCEEDED"|"FAILED", "output", "error", "cause"}
// Every Task state is answered by Go. waitMillis / retryMillis, when set,
// replace every Wait state's and every Retry's pause.
import { StateMachine } from 'aws-local-stepfunctions';
import readline from 'node:readline';

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function readMessage() {
  const { value, done } = await lines.next();
  if (done) throw new Error('the Go side closed the pipe');
  return JSON.parse(value);
}
function send(msg) {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

let queue = Promise.resolve();
function callGo(state, input) {
  const call = queue.then(async () => {
    // Let the event stream catch up first, so the history has this
    // state's entry (and the previous state's exit) before its task runs.
    await new Promise((resolve) => setImmediate(resolve));
    send({ kind: 'task', state, input });
    return readMessage();
  });
  queue = call.catch(() => {});
  return call.then((answer) => {
    if (answer.error) {
      const err = new Error(answer.error.message);
      err.name = answer.error.name;
      throw err;
    }
    return answer.output;
  });
}

const setup = await readMessage();
const taskResourceLocalHandlers = {};
const waitTimeOverrides = {};
const retryIntervalOverrides = {};
for (const [name, state] of Object.entries(setup.definition.States)) {
  if (state.Type === 'Task') {
    taskResourceLocalHandlers[name] = (input) => callGo(name, input);
    if (setup.retryMillis != null) retryIntervalOverrides[name] = setup.retryMillis;
  }
  if (state.Type === 'Wait' && setup.waitMillis != null) waitTimeOverrides[name] = setup.waitMillis;
}

const machine = new StateMachine(setup.definition, { validationOptions: { checkArn: true, checkPaths: true } });
const execution = machine.run(setup.input, {
  overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
  context: setup.context,
});
const streaming = (async () => {
  for await (const ev of execution.eventLogs) {
    const e = { kind: 'event', type: ev.type };
    if (ev.state) {
      e.state = ev.state.name;
      e.stateType = ev.state.type;
      if (ev.type === 'StateEntered') e.input = ev.state.input;
      if (ev.type === 'StateExited') e.output = ev.state.output;
    }
    if (ev.Error !== undefined) { e.error = ev.Error; e.cause = ev.Cause; }
    if (ev.retry) e.attempt = ev.retry.attempt;
    send(e);
  }
})();
let end;
try {
  const output = await execution.result;
  end = { kind: 'end', status: 'SUCCEEDED', output };
} catch (err) {
  const inner = err.cause instanceof Error ? err.cause : err;
  end = { kind: 'end', status: 'FAILED', error: inner.name, cause: inner.message };
}
await streaming;
send(end);
process.exit(0);
