// 双随机 sampling plans (graph/sampling_plans.py): a plan and each drawn target are found by their IDs; the public
// page lists drawn plans newest first.
CREATE CONSTRAINT sampling_plan_id IF NOT EXISTS FOR (n:SamplingPlan) REQUIRE n.plan_id IS UNIQUE;
CREATE CONSTRAINT sampling_assignment_id IF NOT EXISTS FOR (n:SamplingAssignment) REQUIRE n.assignment_id IS UNIQUE;
CREATE INDEX sampling_plan_state_created IF NOT EXISTS FOR (n:SamplingPlan) ON (n.state, n.created_at);
// Credit records (graph/credit.py): changes, appeals and approvals by ID; the watch list filters parties by status.
CREATE CONSTRAINT credit_change_id IF NOT EXISTS FOR (n:CreditChange) REQUIRE n.change_id IS UNIQUE;
CREATE CONSTRAINT credit_appeal_id IF NOT EXISTS FOR (n:CreditAppeal) REQUIRE n.appeal_id IS UNIQUE;
CREATE CONSTRAINT credit_approval_id IF NOT EXISTS FOR (n:CreditApproval) REQUIRE n.approval_id IS UNIQUE;
CREATE INDEX party_credit_status IF NOT EXISTS FOR (n:Party) ON (n.credit_status);
