import { describe, expect, it } from 'vitest';
import {
  FARGATE_USD_PER_GB_HOUR,
  FARGATE_USD_PER_VCPU_HOUR,
  costPerCallMinute,
  fargateTaskSizes,
  isFargateTaskSize,
  smallestTaskFor,
  taskUsdPerHour,
} from '../../infra/fargate.js';

describe('Fargate cost', () => {
  it('lists the task sizes Fargate accepts, cheapest first', () => {
    const sizes = fargateTaskSizes();

    // 0.25: 3, 0.5: 4, 1: 7, 2: 13, 4: 23, 8: 12 (16..60 by 4), 16: 12 (32..120 by 8)
    expect(sizes).toHaveLength(74);
    for (let i = 1; i < sizes.length; i++) expect(taskUsdPerHour(sizes[i]!)).toBeGreaterThanOrEqual(taskUsdPerHour(sizes[i - 1]!));
    expect(sizes[0]).toEqual({ vcpu: 0.25, memoryGb: 0.5 });
    expect(isFargateTaskSize({ vcpu: 4, memoryGb: 30 })).toBe(true);
    expect(isFargateTaskSize({ vcpu: 4, memoryGb: 31 })).toBe(false);
    expect(isFargateTaskSize({ vcpu: 8, memoryGb: 18 })).toBe(false);
    expect(isFargateTaskSize({ vcpu: 0.25, memoryGb: 3 })).toBe(false);
  });

  it('prices a call-minute as one task-minute shared by the calls the task carries', () => {
    const oneCall = costPerCallMinute({ vcpu: 1, memoryGb: 2 });
    const fourCalls = costPerCallMinute({ vcpu: 1, memoryGb: 2, callsPerTask: 4 });

    expect(oneCall).toBeCloseTo((FARGATE_USD_PER_VCPU_HOUR + 2 * FARGATE_USD_PER_GB_HOUR) / 60, 12);
    expect(oneCall).toBeCloseTo(0.000823, 6); // about 5 cents per call-hour
    expect(fourCalls).toBeCloseTo(oneCall / 4, 12);
  });

  it('refuses sizes Fargate does not run, saying what the vCPU value takes', () => {
    expect(() => costPerCallMinute({ vcpu: 0.25, memoryGb: 4 })).toThrow(/0\.25 vCPU takes 0\.5, 1, 2 GB/);
    expect(() => costPerCallMinute({ vcpu: 2, memoryGb: 17 })).toThrow(/2 vCPU takes 4–16 GB in steps of 1 GB/);
    expect(() => costPerCallMinute({ vcpu: 3, memoryGb: 8 })).toThrow(/vCPU must be one of/);
    expect(() => costPerCallMinute({ vcpu: 1, memoryGb: 2, callsPerTask: 0 })).toThrow(/callsPerTask/);
  });

  it('fits a light call into the smallest task, with 1.5× headroom by default', () => {
    // 0.1 core × 1.5 = 0.15 vCPU, 300 MiB × 1.5 = 0.44 GB
    const choice = smallestTaskFor({ cores: 0.1, pssMb: 300 });

    expect(choice).toMatchObject({ vcpu: 0.25, memoryGb: 0.5, cpuUnits: 256, memoryMiB: 512 });
    expect(choice.usdPerCallMinute).toBeCloseTo(costPerCallMinute({ vcpu: 0.25, memoryGb: 0.5 }), 12);
    expect(choice.usdPerHour).toBeCloseTo(taskUsdPerHour({ vcpu: 0.25, memoryGb: 0.5 }), 12);
  });

  it('grows the task by whichever of CPU and memory binds', () => {
    // CPU binds: 0.4 × 1.5 = 0.6 vCPU needs 1 vCPU, whose smallest memory is 2 GB
    expect(smallestTaskFor({ cores: 0.4, pssMb: 300 })).toMatchObject({ vcpu: 1, memoryGb: 2 });
    // memory binds: 2000 MiB × 1.5 = 2.93 GB is beyond 0.25 vCPU, so 0.5 vCPU with 3 GB
    expect(smallestTaskFor({ cores: 0.05, pssMb: 2000 })).toMatchObject({ vcpu: 0.5, memoryGb: 3 });
    // a need that lands exactly on a size takes that size
    expect(smallestTaskFor({ cores: 0.5, pssMb: 1024, headroom: 1 })).toMatchObject({ vcpu: 0.5, memoryGb: 1 });
  });

  it('sizes a task for several calls and shares its price among them', () => {
    // 8 × 0.15 × 1.5 = 1.8 vCPU, 8 × 300 MiB × 1.5 = 3.5 GB
    const choice = smallestTaskFor({ cores: 0.15, pssMb: 300, callsPerTask: 8 });

    expect(choice).toMatchObject({ vcpu: 2, memoryGb: 4 });
    expect(choice.usdPerCallMinute).toBeCloseTo(choice.usdPerHour / 60 / 8, 12);
  });

  it('says so when no task size holds the need, and rejects bad measurements', () => {
    expect(() => smallestTaskFor({ cores: 12, pssMb: 1000 })).toThrow(/no Fargate task size holds 18\.00 vCPU/);
    expect(() => smallestTaskFor({ cores: Number.NaN, pssMb: 100 })).toThrow(/cores must be a finite number/);
    expect(() => smallestTaskFor({ cores: 0.1, pssMb: -1 })).toThrow(/pssMb/);
    expect(() => smallestTaskFor({ cores: 0.1, pssMb: 100, headroom: 0.9 })).toThrow(/headroom/);
  });
});
