import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../child-process.js';
import { LAB_PEER_IP, type LabNetns } from '../netns.js';
import { Namespace } from './namespace.js';

/**
 * A VPC for container tasks, next to the lab's own namespace, which plays the internet (the room's Janus, the phone,
 * the people). Every task gets a network namespace of its own with one interface, `eth0`, on a link of its own to the
 * VPC's router, as awsvpc gives every Fargate task its own network interface; all traffic between tasks and to the
 * internet passes the router, which does what AWS does there:
 *
 * - public subnet tasks with a public IP: 1:1 NAT between the public address and the task's private one (the internet
 *   gateway), so the task's interface never carries the address its peers reach it at;
 * - every other task reaches the internet through one NAT gateway address;
 * - a network load balancer's static address: its UDP port translated to a task's, keeping the client's address;
 * - security groups: a task takes new connections only as its groups' ingress rules allow (replies always pass).
 *
 * Private addresses cannot be reached from the internet: the lab's namespace has no route to the VPC, only to the
 * public range, and the router forwards nothing from its uplink but translated traffic. Services the lab stands in for (DNS, the ECS endpoints, AWS APIs) listen on the router's own
 * addresses, which tasks reach through their default route.
 */
export const VPC_NETWORK = {
  cidr: '10.78.0.0/16',
  /** The VPC's DNS resolver (Route 53 Resolver answers at the VPC's base address + 2). */
  dnsIp: '10.78.0.2',
  /** Where the lab's stand-ins for AWS service endpoints listen. */
  servicesIp: '10.78.255.1',
  /** The ECS task metadata, credentials and agent endpoint, the link-local address Fargate gives it. */
  ecsEndpointIp: '169.254.170.2',
  /** The public range the router owns: public IPs of tasks, the NAT gateway, load balancers. */
  publicCidr: '203.0.113.0/24',
  natGatewayIp: '203.0.113.1',
  /**
   * The link between the internet and the router: the lab's own veth pair, whose far end (vb) the router takes. The
   * lab's room Janus binds its ICE sockets to va, so the public range must be reached through va; the phone's address
   * (LAB_PEER_IP) moves from vb to va beside the room's.
   */
  uplink: { internetDevice: 'va', routerDevice: 'vb', routerIp: '10.77.0.254' },
} as const;

export type IngressSource = { readonly kind: 'cidr'; readonly cidr: string } | { readonly kind: 'group'; readonly group: string };

/** One ingress rule of a security group (protocol `all` is IpProtocol -1). */
export interface IngressRule {
  readonly protocol: 'tcp' | 'udp' | 'all';
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: IngressSource;
  readonly description: string;
}

/** A task's place in the VPC. */
export interface TaskLink {
  readonly name: string;
  readonly netns: Namespace;
  /** The task's private address, on its eth0. */
  readonly ip: string;
  readonly gateway: string;
  /** The task's DNS hostname, as EC2 names private addresses. */
  readonly hostname: string;
  /** Its public address (1:1 NAT), when it has one. */
  readonly publicIp: string | undefined;
  /** The security groups it is in. */
  readonly groups: readonly string[];
}

export interface LoadBalancerListener {
  readonly publicIp: string;
  readonly protocol: 'udp' | 'tcp';
  readonly port: number;
  readonly task: string;
  readonly targetPort: number;
}

export class LabVpc {
  private readonly tasks = new Map<string, TaskLink>();
  private readonly groups = new Map<string, readonly IngressRule[]>();
  private readonly listeners: LoadBalancerListener[] = [];
  private nextIndex = 1;
  private nextPublic = 10;

  private constructor(
    readonly router: Namespace,
    private readonly internet: LabNetns,
    private readonly dir: string,
  ) {}

  /** Makes the router and its link to the lab's namespace. */
  static async create(internet: LabNetns, dir: string): Promise<LabVpc> {
    const router = await Namespace.create('vpc');
    const vpc = new LabVpc(router, internet, dir);
    const { uplink } = VPC_NETWORK;
    const inet = (...args: string[]) => run('ip', ['-n', internet.name, ...args]);
    try {
      await inet('link', 'set', uplink.routerDevice, 'netns', router.name);
      await inet('addr', 'add', `${LAB_PEER_IP}/24`, 'dev', uplink.internetDevice);
      await router.ip('addr', 'flush', 'dev', uplink.routerDevice);
      await router.ip('addr', 'add', `${uplink.routerIp}/24`, 'dev', uplink.routerDevice);
      await router.ip('link', 'set', uplink.routerDevice, 'up');
      for (const address of [VPC_NETWORK.dnsIp, VPC_NETWORK.servicesIp, VPC_NETWORK.ecsEndpointIp]) {
        await router.ip('addr', 'add', `${address}/32`, 'dev', 'lo');
      }
      await router.sysctl('net.ipv4.ip_forward', '1');
      await router.sysctl('net.ipv4.conf.all.rp_filter', '0');
      // the internet reaches the public range through the router; what the phone's host sends there is from its address
      await inet('route', 'add', VPC_NETWORK.publicCidr, 'via', uplink.routerIp, 'dev', uplink.internetDevice, 'src', LAB_PEER_IP);
      await vpc.applyRules();
      return vpc;
    } catch (error) {
      await vpc.remove();
      throw error;
    }
  }

  /** Defines (or replaces) a security group's ingress rules. */
  async defineSecurityGroup(name: string, rules: readonly IngressRule[]): Promise<void> {
    this.groups.set(name, rules);
    await this.applyRules();
  }

  /** A new task's namespace and link, in `groups`, with a public address when `publicIp` is true. */
  async addTask(name: string, options: { readonly groups: readonly string[]; readonly publicIp: boolean }): Promise<TaskLink> {
    if (this.tasks.has(name)) throw new Error(`the VPC already has a task named ${name}`);
    const index = this.nextIndex++;
    if (index > 250) throw new Error('the lab VPC has room for 250 tasks');
    const netns = await Namespace.create(`t${index}`);
    const ip = `10.78.${index}.2`;
    const gateway = `10.78.${index}.1`;
    const device = `task${index}`;
    try {
      await run('ip', ['link', 'add', device, 'netns', this.router.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.name]);
      await this.router.ip('addr', 'add', `${gateway}/24`, 'dev', device);
      await this.router.ip('link', 'set', device, 'up');
      await netns.ip('addr', 'add', `${ip}/24`, 'dev', 'eth0');
      await netns.ip('link', 'set', 'eth0', 'up');
      await netns.ip('route', 'add', 'default', 'via', gateway);
    } catch (error) {
      await netns.remove();
      throw error;
    }
    const publicIp = options.publicIp ? `203.0.113.${this.nextPublic++}` : undefined;
    const link: TaskLink = { name, netns, ip, gateway, hostname: `ip-${ip.replaceAll('.', '-')}.ec2.internal`, publicIp, groups: options.groups };
    this.tasks.set(name, link);
    await this.applyRules();
    return link;
  }

  /** Removes a task's namespace (its link goes with it) and its addresses. */
  async removeTask(name: string): Promise<void> {
    const link = this.tasks.get(name);
    if (link === undefined) return;
    this.tasks.delete(name);
    await link.netns.remove();
    await this.applyRules();
  }

  /** A network load balancer listener on a static public address, forwarding to a task (client address kept). */
  async addListener(listener: LoadBalancerListener): Promise<void> {
    this.listeners.push(listener);
    await this.applyRules();
  }

  task(name: string): TaskLink {
    const link = this.tasks.get(name);
    if (link === undefined) throw new Error(`no task named ${name} in the lab VPC`);
    return link;
  }

  /** The private addresses of the tasks in a security group now. */
  membersOf(group: string): string[] {
    return [...this.tasks.values()].filter((t) => t.groups.includes(group)).map((t) => t.ip);
  }

  /** Writes the router's whole nftables ruleset from the current tasks, groups and listeners. */
  private async applyRules(): Promise<void> {
    const { uplink } = VPC_NETWORK;
    const dnat: string[] = [];
    const snat: string[] = [];
    const forward: string[] = [];
    const chains: string[] = [];
    for (const listener of this.listeners) {
      const task = this.tasks.get(listener.task);
      if (task === undefined) continue;
      dnat.push(`iifname "${uplink.routerDevice}" ip daddr ${listener.publicIp} ${listener.protocol} dport ${listener.port} dnat to ${task.ip}:${listener.targetPort}`);
    }
    for (const task of this.tasks.values()) {
      if (task.publicIp !== undefined) {
        dnat.push(`iifname "${uplink.routerDevice}" ip daddr ${task.publicIp} dnat to ${task.ip}`);
        snat.push(`oifname "${uplink.routerDevice}" ip saddr ${task.ip} snat to ${task.publicIp}`);
      }
      const chain = `sg_${task.netns.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
      forward.push(`ip daddr ${task.ip} jump ${chain}`);
      chains.push(`  chain ${chain} {\n${this.ingressLines(task).map((l) => `    ${l}\n`).join('')}  }`);
    }
    snat.push(`oifname "${uplink.routerDevice}" ip saddr ${VPC_NETWORK.cidr} snat to ${VPC_NETWORK.natGatewayIp}`);
    const ruleset = `table ip roomline_vpc
delete table ip roomline_vpc
table ip roomline_vpc {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
${dnat.map((l) => `    ${l}\n`).join('')}  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
${snat.map((l) => `    ${l}\n`).join('')}  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
${forward.map((l) => `    ${l}\n`).join('')}    ip daddr ${VPC_NETWORK.cidr} drop
    iifname "${uplink.routerDevice}" drop
  }
${chains.join('\n')}
}
`;
    const file = join(this.dir, 'vpc.nft');
    await writeFile(file, ruleset);
    await this.router.exec('nft', '-f', file);
  }

  /** nft rules admitting what a task's security groups admit. */
  private ingressLines(task: TaskLink): string[] {
    const lines: string[] = [];
    for (const group of task.groups) {
      for (const rule of this.groups.get(group) ?? []) {
        const sources = rule.source.kind === 'cidr' ? [rule.source.cidr] : this.membersOf(rule.source.group);
        if (sources.length === 0) continue;
        const ports = rule.protocol === 'all' ? '' : ` ${rule.protocol} dport ${rule.fromPort === rule.toPort ? rule.fromPort : `${rule.fromPort}-${rule.toPort}`}`;
        lines.push(`ip saddr { ${sources.join(', ')} }${ports} accept comment "${rule.description.replace(/"/g, "'").slice(0, 120)}"`);
      }
    }
    return lines;
  }

  /** Removes every task and the router. Idempotent. */
  async remove(): Promise<void> {
    for (const task of [...this.tasks.values()]) await task.netns.remove();
    this.tasks.clear();
    // the lab's veth end goes back home (deleting it with the router would take va with it)
    const { uplink } = VPC_NETWORK;
    await this.router.ip('addr', 'flush', 'dev', uplink.routerDevice).catch(() => undefined);
    await this.router.ip('link', 'set', uplink.routerDevice, 'netns', this.internet.name).catch(() => undefined);
    await run('ip', ['-n', this.internet.name, 'addr', 'del', `${LAB_PEER_IP}/24`, 'dev', uplink.internetDevice]).catch(() => undefined);
    await run('ip', ['-n', this.internet.name, 'addr', 'add', `${LAB_PEER_IP}/24`, 'dev', uplink.routerDevice]).catch(() => undefined);
    await run('ip', ['-n', this.internet.name, 'link', 'set', uplink.routerDevice, 'up']).catch(() => undefined);
    await this.router.remove();
  }
}
