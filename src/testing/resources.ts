// RFC 8707 resource indicators as a server checks them: absolute URIs without a fragment, and (when
// the simulator is given its list) only the resources it knows.

/** RFC 8707 §2: why the `resource` parameters are refused (`invalid_target`), or undefined when they are fine. */
export function targetRefusal(resources: readonly string[] | undefined, known: readonly string[] | undefined): string | undefined {
  for (const resource of resources ?? []) {
    if (!/^[a-z][a-z\d+.-]*:/i.test(resource) || resource.includes('#')) return `resource ${resource} is not an absolute URI without a fragment`;
    if (known !== undefined && !known.includes(resource)) return `resource ${resource} is not one this server knows (resources)`;
  }
  return undefined;
}
