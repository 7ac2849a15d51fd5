/**
 * The guide's browser snippets (section 1, "建立连接" and "订阅任务"), kept verbatim but for the host and
 * port, and run with a WebSocket class passed in, so that a test proves guide clients work unchanged.
 */
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

export interface GuideClient {
  ws: { readyState: number; close(): void };
  subscribeTask(taskId: string): void;
  unsubscribeTask(taskId: string): void;
}

/** Runs the guide's snippet against `hostPort` with the given WebSocket class and callbacks. */
export function runGuideSnippet(
  hostPort: string,
  WebSocketClass: unknown,
  callbacks: { updateProgress(p: any): void; updateStatus(p: any): void; log(...args: unknown[]): void },
): GuideClient {
  const code = GUIDE_CONNECT_AND_SUBSCRIBE.replace('localhost:8080', hostPort);
  const consoleLike = { log: callbacks.log, error: callbacks.log };
  const run = new Function(
    'WebSocket',
    'updateProgress',
    'updateStatus',
    'connectWebSocket',
    'console',
    `${code}\nreturn { ws, subscribeTask, unsubscribeTask };`,
  );
  return run(WebSocketClass, callbacks.updateProgress, callbacks.updateStatus, () => {}, consoleLike) as GuideClient;
}
