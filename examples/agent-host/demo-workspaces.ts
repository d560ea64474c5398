/** The workspaces of the demo's simulated platform (the platform's ids are UUIDs). */
export const DEMO_WORKSPACES = {
  /** The agent host's own workspace, unless WORKSPACE_ID says otherwise. */
  host: { id: '3f6d2a1e-7b4c-4e8a-9d5f-0c1b2a3e4d5f', name: 'Support agent' },
  /** Its parent, to which the woken agent reports. */
  lead: { id: '8a2e4c6b-1d3f-4a5b-8c7d-9e0f1a2b3c4d', name: 'Team lead' },
  /** Where the agent delegates its research. */
  research: { id: '1c3e5a7b-9d2f-4b6c-8e0a-2b4d6f8a0c1e', name: 'Researcher' },
  /** Where the agent delegates its writing. */
  writer: { id: '6e8a0c2d-4f6b-4d8e-9a1c-3e5b7d9f1a2c', name: 'Writer' },
  /** A workspace whose finished delegation shows up in the host's list, to be refused. */
  intruder: { id: '9d1f3b5c-7e9a-4c2e-8b4d-6f8a0c2e4b6d', name: 'Intruder' },
} as const;
