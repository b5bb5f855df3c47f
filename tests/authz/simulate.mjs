// Evaluate a batch of IAM requests against identity policies with @cloud-copilot/iam-simulate.
// stdin: {"account": "...", "roles": {"<role>": [policy documents]}, "resourcePolicies": {"<arn>":
// policy}, "requests": [{"role", "action", "resource", "context"}]}; stdout: one result per request, in order: {"decision": "Allowed" |
// "ExplicitlyDenied" | "ImplicitlyDenied" | "Invalid", "allowedBy": [sid], "deniedBy": [sid], "errors"}.
// One process per batch: node and the simulator's data load once (tests/authz/evaluate.py).
// Organization mode: a request may name its principal (a member role, the hub's role assuming one) and the
// account of its resource (a member role assumed cross-account, judged by its trust policy as well).
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const batch = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const sid = (analysis) => analysis.explain?.identifier ?? analysis.statementId ?? '?'
const results = []
for (const request of batch.requests) {
  const policies = batch.roles[request.role].map((policy, index) => ({ name: `policy-${index}`, policy }))
  const answer = await runSimulation(
    {
      request: {
        principal: request.principal ?? `arn:aws:iam::${batch.account}:role/${request.role}`,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount ?? batch.account },
        contextVariables: request.context,
      },
      identityPolicies: policies,
      // A KMS key answers only to identity policies its key policy lets in: it comes with the request.
      resourcePolicy: batch.resourcePolicies[request.resource],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  )
  if (answer.resultType === 'error') {
    results.push({ decision: 'Invalid', allowedBy: [], deniedBy: [], errors: answer.errors })
    continue
  }
  const identity = answer.result.analysis.identityAnalysis
  results.push({
    decision: answer.overallResult,
    allowedBy: identity.allowStatements.map(sid),
    deniedBy: identity.denyStatements.map(sid),
    errors: null,
  })
}
process.stdout.write(JSON.stringify(results))
