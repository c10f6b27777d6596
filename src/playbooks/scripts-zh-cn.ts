import { definePlaybook } from './define-playbook.js';
import type { Playbook } from './types.js';

/**
 * 简体中文安抚话术（zh-CN）。每句都包含：回应情绪、表达理解、主动承担、
 * 给出明确的下一步。顺序即轮换顺序，针对特定情绪的话术排在前面。
 */
export const CHINESE_PLAYBOOK: Playbook = definePlaybook({
  language: 'zh-CN',
  scripts: [
    // 二级（操作级）：坐席自行安抚，稳住通话。
    {
      id: 'zh-CN.t2.anger.1',
      tier: 2,
      emotion: 'anger',
      text: '听得出来您非常不满意，这完全可以理解。我现在亲自帮您查，在这通电话结束前，一定把我能为您做的告诉您。',
    },
    {
      id: 'zh-CN.t2.anger.2',
      tier: 2,
      emotion: 'anger',
      text: '非常抱歉让您反复催问。我们一起把它解决好：我先跟您核对两个信息，然后马上告诉您下一步怎么处理。',
    },
    {
      id: 'zh-CN.t2.sadness.1',
      tier: 2,
      emotion: 'sadness',
      text: '真的很抱歉您遇到这样的事情。您慢慢说，不着急，我一直在，我们一步一步来处理。',
    },
    {
      id: 'zh-CN.t2.sadness.2',
      tier: 2,
      emotion: 'sadness',
      text: '这段时间您一定很不容易，谢谢您打电话过来。具体的手续交给我来办，我先帮您看一下目前的办理进度。',
    },
    {
      id: 'zh-CN.t2.general.1',
      tier: 2,
      emotion: undefined,
      text: '非常理解您现在的心情，也谢谢您把情况讲得这么清楚。这件事由我来负责跟进，我先查一下具体原因，尽快帮您处理好。',
    },
    {
      id: 'zh-CN.t2.general.2',
      tier: 2,
      emotion: undefined,
      text: '同一个问题还要您再打一次电话，确实给您添麻烦了。我会一直跟进到底。我先把我理解的情况跟您复述一遍，您看对不对？',
    },
    {
      id: 'zh-CN.t2.general.3',
      tier: 2,
      emotion: undefined,
      text: '谢谢您的耐心。接下来我会这样处理：先查看您上一次申请的进度，告诉您现在到哪一步了，挂电话之前再跟您确认好下一步安排。',
    },
    // 三级（严重）：资深同事/主管介入，话术更强调担当。
    {
      id: 'zh-CN.t3.anger.1',
      tier: 3,
      emotion: 'anger',
      text: '我能感受到您非常生气，您本来就应该得到更好的服务。我想和您一起把问题解决，而不是争论。我已经把情况报给了资深同事，我们一起看看今天能为您弥补些什么。',
    },
    {
      id: 'zh-CN.t3.anger.2',
      tier: 3,
      emotion: 'anger',
      text: '您说的我都听到了。这件事本不应该发生，我也不会让您被来回转接。我的主管现在就加入，在拿出让您满意的方案之前，我会一直在线。',
    },
    {
      id: 'zh-CN.t3.sadness.1',
      tier: 3,
      emotion: 'sadness',
      text: '真的很抱歉，这件事让您这么难受。您不需要一个人面对，我已经请资深同事来协助，我们会陪您一步一步处理。',
    },
    {
      id: 'zh-CN.t3.general.1',
      tier: 3,
      emotion: undefined,
      text: '我完全理解您为什么着急，也希望这次能彻底帮您解决。我已经请有处理权限的资深同事加入。在他接入之前，您能告诉我，您最希望先解决的是哪一点吗？',
    },
    {
      id: 'zh-CN.t3.general.2',
      tier: 3,
      emotion: undefined,
      text: '非常抱歉，这次的体验确实很不好。我跟您说明一下接下来的安排：我现在就把这件事升级给资深同事处理，并给您一个工单号，以后您不需要再重复说明。',
    },
    {
      id: 'zh-CN.t3.general.3',
      tier: 3,
      emotion: undefined,
      text: '您的诉求我都记下了，我们会优先处理。我已经通知了主管，这件事我会一直跟到解决为止。我先跟您说清楚具体怎么处理、什么时候给您答复。',
    },
    // 四级（危急）：带着完整情况转交专家团队。
    {
      id: 'zh-CN.t4.anger.1',
      tier: 4,
      emotion: 'anger',
      text: '我理解这件事对您来说非常严重，也不想让您再重复一遍。我现在就把您的来电连同完整的情况说明转给专家团队，在他们接起之前我会一直在线。',
    },
    {
      id: 'zh-CN.t4.sadness.1',
      tier: 4,
      emotion: 'sadness',
      text: '听得出来这件事让您压力很大，我希望您能得到最合适的帮助。我现在为您转接专门的同事，我们刚才谈到的内容他们都会知道，您不需要从头再讲。',
    },
    {
      id: 'zh-CN.t4.general.1',
      tier: 4,
      emotion: undefined,
      text: '这件事需要更专业的同事来处理，我希望您能得到最好的帮助。我现在为您转接专门处理这类问题的团队，情况我都已经转告，您不需要从头再讲一遍。',
    },
    {
      id: 'zh-CN.t4.general.2',
      tier: 4,
      emotion: undefined,
      text: '谢谢您一直耐心地和我沟通。我现在把您转接到有权限解决这个问题的专属团队，他们已经掌握了我们通话的全部情况，我会先帮您介绍清楚再离开。',
    },
    {
      id: 'zh-CN.t4.general.3',
      tier: 4,
      emotion: undefined,
      text: '这件事我一定不会让它不了了之。我现在就把您的来电和情况说明一起交给专家团队，由他们马上接手处理。',
    },
  ],
});
