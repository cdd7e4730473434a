/** The warm-pool planner: `roomline plan` loads this module (dist/planner.mjs), built apart from the worker image. */
export { formatPlan, plan, type Plan, type PlanOptions, type PlanRow } from './plan.js';
export { constructPolicy, type ScalingPolicy } from './policy.js';
export { simulate, type SimulationInput, type SimulationResult } from './simulation.js';
