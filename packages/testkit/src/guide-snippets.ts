/**
 * The guide's browser snippets, verbatim but for host and port: section 1 "建立连接" + "订阅任务", and the
 * reconnect snippet "客户端重连实现". They run with `ws` passed in as the WebSocket class, so a test proves
 * that guide clients work unchanged. Helpers the guide leaves to the page (updateProgress, updateStatus,
 * handleMessage, connectWebSocket's timer) are passed in.
 */
import WebSocket from 'ws';

export const GUIDE_CONNECT_AND_SUBSCRIBE = `
const ws = new WebSocket('ws://localhost:8080/api/v1/ws?user_id=user-123&project_id=project-456');

ws.onopen = function(event) {
    console.log('WebSocket连接已建立');
};

ws.onmessage = function(event) {
    const message = JSON.parse(event.data);
    console.log('收到消息:', message);
    
    switch(message.type) {
        case 'connected':
            console.log('连接成功，客户端ID:', message.payload.client_id);
            break;
        case 'progress':
            updateProgress(message.payload);
            break;
        case 'status':
            updateStatus(message.payload);
            break;
    }
};

ws.onerror = function(error) {
    console.error('WebSocket错误:', error);
};

ws.onclose = function(event) {
    console.log('WebSocket连接已关闭');
    // 自动重连
    setTimeout(connectWebSocket, 3000);
};

// 订阅特定任务的进度
function subscribeTask(taskId) {
    ws.send(JSON.stringify({
        action: 'subscribe',
        task_id: taskId
    }));
}

// 取消订阅
function unsubscribeTask(taskId) {
    ws.send(JSON.stringify({
        action: 'unsubscribe',
        task_id: taskId
    }));
}
`;

export const GUIDE_RECONNECT = `
let ws;
let clientId;
let reconnectAttempts = 0;
const maxReconnectAttempts = 5;

function connectWebSocket() {
    const url = clientId 
        ? \`ws://localhost:8080/api/v1/ws?old_client_id=\${clientId}\`
        : 'ws://localhost:8080/api/v1/ws?user_id=user-123';
    
    ws = new WebSocket(url);
    
    ws.onopen = function(event) {
        reconnectAttempts = 0;
        console.log('WebSocket连接已建立');
    };
    
    ws.onmessage = function(event) {
        const message = JSON.parse(event.data);
        
        if (message.type === 'connected') {
            clientId = message.payload.client_id;
            // 重新订阅之前的任务
            resubscribeTasks();
        }
        
        handleMessage(message);
    };
    
    ws.onclose = function(event) {
        if (reconnectAttempts < maxReconnectAttempts) {
            reconnectAttempts++;
            const delay = Math.min(1000 * Math.pow(2, reconnectAttempts), 30000);
            console.log(\`\${delay}ms后尝试重连...\`);
            setTimeout(connectWebSocket, delay);
        }
    };
}

// 保存订阅的任务
let subscribedTasks = new Set();

function subscribeTask(taskId) {
    subscribedTasks.add(taskId);
    ws.send(JSON.stringify({
        action: 'subscribe',
        task_id: taskId
    }));
}

function resubscribeTasks() {
    subscribedTasks.forEach(taskId => {
        ws.send(JSON.stringify({
            action: 'subscribe',
            task_id: taskId
        }));
    });
}
`;

const quietConsole = { log: () => {}, error: () => {} };

export interface GuideClient {
  ws: () => WebSocket;
  subscribeTask(taskId: string): void;
  unsubscribeTask?(taskId: string): void;
  /** Runs the snippet's own connectWebSocket (reconnect snippet only). */
  connectWebSocket?(): void;
}

/** Runs the connect-and-subscribe snippet against `hostPort`. */
export function runConnectSnippet(
  hostPort: string,
  page: { updateProgress(payload: any): void; updateStatus(payload: any): void },
): GuideClient {
  const run = new Function(
    'WebSocket',
    'updateProgress',
    'updateStatus',
    'connectWebSocket',
    'console',
    'setTimeout',
    `${GUIDE_CONNECT_AND_SUBSCRIBE.replace('localhost:8080', hostPort)}\nreturn { ws: () => ws, subscribeTask, unsubscribeTask };`,
  );
  // The snippet reconnects 3 s after a close; the test ends before that matters, so its timer is a no-op.
  return run(WebSocket, page.updateProgress, page.updateStatus, () => {}, quietConsole, () => {}) as GuideClient;
}

/** Runs the reconnect snippet against `hostPort`; `schedule` stands in for its setTimeout (reconnect delays). */
export function runReconnectSnippet(
  hostPort: string,
  handleMessage: (message: any) => void,
  schedule: (fn: () => void, delayMs: number) => void,
): GuideClient {
  const run = new Function(
    'WebSocket',
    'handleMessage',
    'console',
    'setTimeout',
    `${GUIDE_RECONNECT.replaceAll('localhost:8080', hostPort)}\nreturn { ws: () => ws, subscribeTask, connectWebSocket };`,
  );
  return run(WebSocket, handleMessage, quietConsole, schedule) as GuideClient;
}
