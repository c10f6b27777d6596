import { definePlaybook } from './define-playbook.js';
import type { Playbook } from './types.js';

/**
 * English calming scripts. Each line acknowledges, empathises, takes
 * ownership and offers a concrete next step, in the agent's own voice.
 * Order matters: rotation walks the list, emotion-specific lines first.
 */
export const ENGLISH_PLAYBOOK: Playbook = definePlaybook({
  language: 'en',
  scripts: [
    // Tier 2, operational: the agent calms the caller and keeps the call.
    {
      id: 'en.t2.anger.1',
      tier: 2,
      emotion: 'anger',
      text: "I can hear how frustrating this has been, and you're right to be annoyed. I'm going to look into it myself right now, and I'll tell you exactly what I can do before we finish this call.",
    },
    {
      id: 'en.t2.anger.2',
      tier: 2,
      emotion: 'anger',
      text: "I understand, and I'm sorry you've had to chase this. Let's fix it together: I'll just confirm two quick details with you, and then I'll walk you through the next step.",
    },
    {
      id: 'en.t2.sadness.1',
      tier: 2,
      emotion: 'sadness',
      text: "I'm really sorry you're dealing with this. Take your time, there's no rush. I'm here, and we'll work through it one step at a time.",
    },
    {
      id: 'en.t2.sadness.2',
      tier: 2,
      emotion: 'sadness',
      text: "That sounds like a lot to cope with, and I'm glad you called. I'll take care of the details for you; first, let me check where things stand on your account.",
    },
    {
      id: 'en.t2.general.1',
      tier: 2,
      emotion: undefined,
      text: "I understand why this matters to you, and thank you for explaining it so clearly. I'm taking ownership of this now. Let me check what happened so we can put it right.",
    },
    {
      id: 'en.t2.general.2',
      tier: 2,
      emotion: undefined,
      text: "Nobody wants to call about the same thing twice, and I'm sorry it's come to that. I'll stay with you on this. Can I read back what I've understood so far, so we're sure I've got it right?",
    },
    {
      id: 'en.t2.general.3',
      tier: 2,
      emotion: undefined,
      text: "Thank you for bearing with me. Here's what I'm going to do: I'll review the last request on your account, tell you where it stands, and agree a clear next step with you before we hang up.",
    },
    // Tier 3, serious: senior help is coming; the line is firmer on ownership.
    {
      id: 'en.t3.anger.1',
      tier: 3,
      emotion: 'anger',
      text: "I can hear how angry you are, and you have every right to expect better than this. I'd rather fix it with you than argue about it. I've flagged your call to a senior colleague, and together we'll work out what we can put right today.",
    },
    {
      id: 'en.t3.anger.2',
      tier: 3,
      emotion: 'anger',
      text: "You've been very clear, and I hear you. This shouldn't have happened, and I'm not going to pass you around. My team leader is joining us now, and I'll stay on the line until we have a plan you're comfortable with.",
    },
    {
      id: 'en.t3.sadness.1',
      tier: 3,
      emotion: 'sadness',
      text: "I'm so sorry this has been so hard. You don't have to sort it out on your own. I've asked a senior colleague to help, and we'll go through it with you step by step.",
    },
    {
      id: 'en.t3.general.1',
      tier: 3,
      emotion: undefined,
      text: "I completely understand why you're upset, and I want this resolved properly. I've asked a senior colleague with the authority to fix it to join us. While they do, can you tell me the one thing that matters most to you here?",
    },
    {
      id: 'en.t3.general.2',
      tier: 3,
      emotion: undefined,
      text: "I'm sorry, this has clearly been a poor experience. Let me be direct about what happens next: I'm escalating this to a senior colleague right now, and I'll give you a reference number so you never have to explain it again.",
    },
    {
      id: 'en.t3.general.3',
      tier: 3,
      emotion: undefined,
      text: "I hear you, and I'm treating this as a priority. I've alerted my supervisor, and I'm keeping hold of your case until it's resolved. Let me tell you exactly what we're going to do and by when.",
    },
    // Tier 4, critical: warm handover to the special team with the context.
    {
      id: 'en.t4.anger.1',
      tier: 4,
      emotion: 'anger',
      text: "I understand how serious this is for you, and I don't want you to have to repeat yourself. I'm handing your call to our specialist team now, with a full summary of everything you've told me, and I'll stay on the line until they've picked up.",
    },
    {
      id: 'en.t4.sadness.1',
      tier: 4,
      emotion: 'sadness',
      text: "I can hear this is really weighing on you, and I want you to get the right support. I'm connecting you with a specialist colleague who can help properly. They'll have everything we've talked about, so you won't need to start again.",
    },
    {
      id: 'en.t4.general.1',
      tier: 4,
      emotion: undefined,
      text: "This needs more than I can do on my own, and I want you to get the best possible help. I'm connecting you now with a dedicated team who handle exactly this. I've passed on all the details, so you won't have to start again.",
    },
    {
      id: 'en.t4.general.2',
      tier: 4,
      emotion: undefined,
      text: "Thank you for staying on the line with me. I'm transferring you to a specialist team with the authority to resolve this. They already have the full details of our conversation, and I'll introduce you before I leave the call.",
    },
    {
      id: 'en.t4.general.3',
      tier: 4,
      emotion: undefined,
      text: "I'm not going to leave this unresolved. I'm passing your call to our specialist team right now, together with a summary of what's happened, so they can take it from here straight away.",
    },
  ],
});
