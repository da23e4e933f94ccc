// Runs the pipeline ASL with aws-local-stepfunctions for the Go tests.
//
// Line protocol over stdin/stdout, one JSON document per line:
//   Go -> node: {"definition": {...}, "input": {...}, "context": {...}}
//   node -> Go: {"kind": "task", "state": "StartImport", "input": {...}}
//   Go -> node: {"output": {...}} or {"error": {"name": "...", "message": "..."}}
//   node -> Go: {"kind": "end", "status": "SUCCEEDED"|"FAILED", "output", "error", "cause", "events": [...]}
// Every Task state is overridden by a call back to Go, every Wait state
// and every Retry pause is overridden to 0 ms, so runs take milliseconds.
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

// Task calls are answered in order: the ASL has no Parallel or Map, so at
// most one Task runs at a time.
let queue = Promise.resolve();
function callGo(state, input) {
  const call = queue.then(async () => {
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
const states = setup.definition.States;
const taskResourceLocalHandlers = {};
const waitTimeOverrides = {};
const retryIntervalOverrides = {};
for (const [name, state] of Object.entries(states)) {
  if (state.Type === 'Task') {
    taskResourceLocalHandlers[name] = (input) => callGo(name, input);
    retryIntervalOverrides[name] = 0;
  }
  if (state.Type === 'Wait') waitTimeOverrides[name] = 0;
}

const machine = new StateMachine(setup.definition, { validationOptions: { checkArn: true, checkPaths: true } });
const execution = machine.run(setup.input, {
  overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
  context: setup.context,
});
const events = [];
const collecting = (async () => {
  for await (const ev of execution.eventLogs) {
    const e = { type: ev.type };
    if (ev.state) {
      e.state = ev.state.name;
      e.stateType = ev.state.type;
      if (ev.type === 'StateEntered') e.input = ev.state.input;
    }
    if (ev.Error !== undefined) { e.error = ev.Error; e.cause = ev.Cause; }
    if (ev.retry) e.attempt = ev.retry.attempt;
    events.push(e);
  }
})();
let end;
try {
  const output = await execution.result;
  end = { kind: 'end', status: 'SUCCEEDED', output };
} catch (err) {
  // ExecutionError wraps the error that ended the run (a Fail state's
  // Error and Cause, or an uncaught task error).
  const inner = err.cause instanceof Error ? err.cause : err;
  end = { kind: 'end', status: 'FAILED', error: inner.name, cause: inner.message };
}
await collecting;
end.events = events;
send(end);
process.exit(0);
